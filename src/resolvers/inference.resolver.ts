import { Arg, Args, ArgsType, Ctx, Field, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { decodeIntCursor, encodeKeyCursor, pageSize, toConnection } from '../graphql/connection.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { AliasChangedEvent, Caller, ClassifyResult as ClassifyView, PredictResult as PredictView } from '../services/index.js';
import {
  ClassifyResult,
  InferenceLogConnection,
  InferenceLogFilter,
  ModelAliasChange,
  PredictResult,
  RegisterModelVersionInput,
  RegisterModelVersionPayload,
  TensorInput,
} from './inference.types.js';

@ArgsType()
class ServeArgs {
  @Field(() => String)
  model!: string;

  @Field(() => String, { nullable: true, description: 'Which alias to use; `champion` when neither alias nor version is given.' })
  alias?: string | null;

  @Field(() => Int, { nullable: true, description: 'An explicit version number; wins over `alias`.' })
  version?: number | null;
}

@ArgsType()
class ClassifyArgs extends ServeArgs {
  @Field(() => [String], { description: 'Up to ARENA_CLASSIFY_MAX_TEXTS non-empty texts (1,000 by default).' })
  texts!: string[];
}

@ArgsType()
class PredictArgs extends ServeArgs {
  @Field(() => [TensorInput], { description: 'Every input the model declares, by name.' })
  inputs!: TensorInput[];
}

@ArgsType()
class InferenceLogsArgs {
  @Field(() => InferenceLogFilter, { nullable: true })
  filter?: InferenceLogFilter | null;

  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, 1 to 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

const callerOf = (ctx: GraphQLContext): Caller => ({ principal: ctx.principal, requestId: ctx.requestId });

@Resolver()
export class InferenceResolver {
  @Query(() => ClassifyResult, { description: 'Classifies texts with a model version (the `champion` by default).' })
  classify(@Args(() => ClassifyArgs) args: ClassifyArgs, @Ctx() ctx: GraphQLContext): Promise<ClassifyView> {
    return ctx.services.inference.classify(args, args.texts, callerOf(ctx));
  }

  @Query(() => PredictResult, { description: 'Runs any registered ONNX model on named input tensors and returns its output tensors.' })
  predict(@Args(() => PredictArgs) args: PredictArgs, @Ctx() ctx: GraphQLContext): Promise<PredictView> {
    return ctx.services.inference.predict(args, args.inputs, callerOf(ctx));
  }

  @Query(() => InferenceLogConnection, { description: 'The inference audit log, newest first.' })
  async inferenceLogs(@Args(() => InferenceLogsArgs) args: InferenceLogsArgs, @Ctx() ctx: GraphQLContext): Promise<InferenceLogConnection> {
    const page = await ctx.services.inference.listLogs(ctx.em, ctx.principal, args.filter ?? {}, pageSize(args.first), decodeIntCursor('log', args.after));
    return toConnection(page.nodes, page.hasMore, page.totalCount, (n) => encodeKeyCursor('log', n.id)) as unknown as InferenceLogConnection;
  }

  @Mutation(() => RegisterModelVersionPayload, {
    description: 'Uploads an ONNX file as the next version of a model. It is validated (size, parse, load and a trial run in a sandboxed process, signature) before anything is stored.',
  })
  async registerModelVersion(
    @Arg('input', () => RegisterModelVersionInput) input: RegisterModelVersionInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RegisterModelVersionPayload> {
    const upload = await input.file;
    const registered = await ctx.services.registry.registerUpload(ctx.em, ctx.principal, {
      model: input.model,
      file: upload.createReadStream(),
      featurizerSpec: input.featurizerSpec ?? null,
      metrics: input.metrics ?? null,
      alias: input.alias ?? null,
    });
    return registered as unknown as RegisterModelVersionPayload;
  }

  @Subscription(() => ModelAliasChange, {
    description: 'Every alias move of a model (version null when an alias is removed).',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      return ctx.services.registry.watchAliases(ctx.principal, String(args['model']));
    },
  })
  modelAliasChanged(@Arg('model', () => String) _model: string, @Root() event: AliasChangedEvent): AliasChangedEvent {
    return event;
  }
}

import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { decodeCursor, decodeIntCursor, encodeKeyCursor, pageSize, toConnection } from '../graphql/connection.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { InferenceJobView, InferenceStatsView } from '../services/index.js';
import { JobListArgs } from './job-state.types.js';
import { InferenceJob, InferenceJobConnection, InferenceResultConnection, InferenceStats, SubmitInferenceJobInput, SubmitInferenceJobPayload } from './inference-job.types.js';

@ArgsType()
class ResultsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, 1 to 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => String, { nullable: true, description: 'Only texts answered with this label.' })
  label?: string | null;
}

@Resolver(() => InferenceJob)
export class InferenceJobResolver {
  @Query(() => InferenceJobConnection, { description: 'Your bulk inference jobs (everyone’s for admins), newest first.' })
  async inferenceJobs(@Args(() => JobListArgs) args: JobListArgs, @Ctx() ctx: GraphQLContext): Promise<InferenceJobConnection> {
    const page = await ctx.services.inferenceJobs.list(ctx.em, ctx.principal, { first: pageSize(args.first), after: decodeCursor(args.after) }, { model: args.model, status: args.status });
    return toConnection(page.nodes, page.hasMore, page.totalCount) as unknown as InferenceJobConnection;
  }

  @Query(() => InferenceJob, { nullable: true })
  inferenceJob(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<InferenceJobView | null> {
    return ctx.services.inferenceJobs.get(ctx.em, ctx.principal, id);
  }

  @Query(() => InferenceStats, { description: 'Bulk inference totals, for one model or all.' })
  inferenceStats(@Arg('model', () => String, { nullable: true }) model: string | null, @Ctx() ctx: GraphQLContext): Promise<InferenceStatsView> {
    return ctx.services.inferenceJobs.stats(ctx.em, ctx.principal, model);
  }

  @FieldResolver(() => InferenceResultConnection, { description: 'Answers in input order.' })
  async results(@Root() job: InferenceJobView, @Args(() => ResultsArgs) args: ResultsArgs, @Ctx() ctx: GraphQLContext): Promise<InferenceResultConnection> {
    const page = await ctx.services.inferenceJobs.results(ctx.em, ctx.principal, job.id, pageSize(args.first), decodeIntCursor('result', args.after), args.label);
    return toConnection(page.nodes, page.hasMore, page.totalCount, (n) => encodeKeyCursor('result', n.index)) as unknown as InferenceResultConnection;
  }

  @Mutation(() => SubmitInferenceJobPayload, { description: 'Queues a bulk classification; watch it with `inferenceJobUpdated`.' })
  async submitInferenceJob(
    @Arg('input', () => SubmitInferenceJobInput) input: SubmitInferenceJobInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SubmitInferenceJobPayload> {
    const upload = input.file ? await input.file : null;
    const job = await ctx.services.inferenceJobs.submit(ctx.em, ctx.principal, {
      model: input.model,
      alias: input.alias ?? null,
      version: input.version ?? null,
      texts: input.texts ?? null,
      file: upload ? upload.createReadStream() : null,
    });
    return { inferenceJob: job } as unknown as SubmitInferenceJobPayload;
  }

  @Subscription(() => InferenceJob, {
    description: 'The job’s current state at once, then its progress until it finishes.',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      return ctx.services.inferenceJobs.watch(ctx.principal, String(args['id']));
    },
  })
  inferenceJobUpdated(@Arg('id', () => ID) _id: string, @Root() job: InferenceJobView): InferenceJobView {
    return job;
  }
}

import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { decodeCursor, decodeIntCursor, encodeKeyCursor, pageSize, toConnection } from '../graphql/connection.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { EvaluationView, MetricPointView, PromotionResult, TrainingRunView, WorkerView } from '../services/index.js';
import { JobListArgs } from './job-state.types.js';
import {
  CancelTrainingRunInput,
  CancelTrainingRunPayload,
  EvaluateModelVersionInput,
  EvaluateModelVersionPayload,
  MetricPoint,
  PromoteModelVersionInput,
  PromoteModelVersionPayload,
  StartTrainingRunInput,
  StartTrainingRunPayload,
  TrainingLogConnection,
  TrainingRun,
  TrainingRunConnection,
  Worker,
} from './training.types.js';

@ArgsType()
class LogsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 100, description: 'Page size, 1 to 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

@Resolver(() => TrainingRun)
export class TrainingResolver {
  @Query(() => TrainingRunConnection, { description: 'Your training runs (everyone’s for admins), newest first.' })
  async trainingRuns(@Args(() => JobListArgs) args: JobListArgs, @Ctx() ctx: GraphQLContext): Promise<TrainingRunConnection> {
    const page = await ctx.services.training.list(ctx.em, ctx.principal, { first: pageSize(args.first), after: decodeCursor(args.after) }, { model: args.model, status: args.status });
    return toConnection(page.nodes, page.hasMore, page.totalCount) as unknown as TrainingRunConnection;
  }

  @Query(() => TrainingRun, { nullable: true })
  trainingRun(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<TrainingRunView | null> {
    return ctx.services.training.get(ctx.em, ctx.principal, id);
  }

  @Query(() => [Worker], { description: 'Worker processes heard from recently: queues, devices, and what each runs now.' })
  workers(@Ctx() ctx: GraphQLContext): Promise<WorkerView[]> {
    return ctx.services.workers.list(ctx.principal);
  }

  @Query(() => [String], { description: 'Runners startTrainingRun accepts.' })
  trainingRunners(@Ctx() ctx: GraphQLContext): string[] {
    return ctx.services.training.runners(ctx.principal);
  }

  @FieldResolver(() => [MetricPoint], { description: 'The metric series so far (a late subscriber starts here).' })
  metrics(@Root() run: TrainingRunView, @Arg('name', () => String, { nullable: true }) name: string | null, @Ctx() ctx: GraphQLContext): Promise<MetricPointView[]> {
    return ctx.services.training.metrics(ctx.em, run.id, name);
  }

  @FieldResolver(() => TrainingLogConnection, { description: 'The run’s log, oldest first.' })
  async logs(@Root() run: TrainingRunView, @Args(() => LogsArgs) args: LogsArgs, @Ctx() ctx: GraphQLContext): Promise<TrainingLogConnection> {
    const page = await ctx.services.training.logs(ctx.em, run.id, pageSize(args.first, 100), decodeIntCursor('log', args.after));
    return toConnection(page.nodes, page.hasMore, page.totalCount, (n) => encodeKeyCursor('log', n.seq)) as unknown as TrainingLogConnection;
  }

  @Mutation(() => StartTrainingRunPayload, { description: 'Queues a training run; watch it with trainingRunUpdated and trainingMetrics.' })
  async startTrainingRun(@Arg('input', () => StartTrainingRunInput) input: StartTrainingRunInput, @Ctx() ctx: GraphQLContext): Promise<StartTrainingRunPayload> {
    const run = await ctx.services.training.start(ctx.em, ctx.principal, input);
    return { trainingRun: run } as unknown as StartTrainingRunPayload;
  }

  @Mutation(() => CancelTrainingRunPayload, { description: 'Stops a queued or running run (within a second); its device is freed.' })
  async cancelTrainingRun(@Arg('input', () => CancelTrainingRunInput) input: CancelTrainingRunInput, @Ctx() ctx: GraphQLContext): Promise<CancelTrainingRunPayload> {
    return { trainingRun: await ctx.services.training.cancel(ctx.em, ctx.principal, input.id) } as unknown as CancelTrainingRunPayload;
  }

  @Mutation(() => EvaluateModelVersionPayload, { description: 'Scores a model version on a dataset version’s test split; the metrics are kept for promotion.' })
  async evaluateModelVersion(@Arg('input', () => EvaluateModelVersionInput) input: EvaluateModelVersionInput, @Ctx() ctx: GraphQLContext): Promise<EvaluateModelVersionPayload> {
    const evaluation: EvaluationView = await ctx.services.training.evaluate(ctx.em, ctx.principal, input);
    return { evaluation } as unknown as EvaluateModelVersionPayload;
  }

  @Mutation(() => PromoteModelVersionPayload, {
    description: 'Makes a version champion if it beats the champion on a test split both were evaluated on; admins may force it.',
  })
  promoteModelVersion(@Arg('input', () => PromoteModelVersionInput) input: PromoteModelVersionInput, @Ctx() ctx: GraphQLContext): Promise<PromotionResult> {
    return ctx.services.training.promote(ctx.em, ctx.principal, input);
  }

  @Subscription(() => TrainingRun, {
    description: 'The run’s current state at once, then every change of status, step and progress until it ends.',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      return ctx.services.training.watch(ctx.principal, String(args['id']));
    },
  })
  trainingRunUpdated(@Arg('id', () => ID) _id: string, @Root() run: TrainingRunView): TrainingRunView {
    return run;
  }

  @Subscription(() => MetricPoint, {
    description: 'Every metric point as it is produced, until the run ends (the points before are in trainingRun { metrics }).',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      return ctx.services.training.watchMetrics(ctx.principal, String(args['runId']));
    },
  })
  trainingMetrics(@Arg('runId', () => ID) _runId: string, @Root() point: MetricPointView): MetricPointView {
    return point;
  }
}

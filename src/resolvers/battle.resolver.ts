import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { decodeCursor, decodeIntCursor, encodeKeyCursor, pageSize, toConnection } from '../graphql/connection.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { BattleRoundsEvent as BattleRoundsEventView, BattleView, TrainingRunView } from '../services/index.js';
import {
  AttackStrategy,
  Battle,
  BattleConnection,
  BattleIdInput,
  BattlePayload,
  BattleRoundConnection,
  BattleRoundsEvent,
  CreateBattleInput,
  EvasionStats,
  ModelVersionBattleStats,
  TrainingRun,
} from './battle.types.js';
import { JobListArgs } from './job-state.types.js';

@ArgsType()
class RoundsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 50, description: 'Page size, 1 to 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => String, { nullable: true })
  strategy?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'false: only the rounds that got through.' })
  detected?: boolean | null;
}

const keyed = (entries: readonly { strategy?: string; split?: string; attempts: number; evasions: number; rate: number }[]): EvasionStats[] =>
  entries.map((e) => ({ key: e.strategy ?? e.split ?? '', attempts: e.attempts, evasions: e.evasions, rate: e.rate }));

@Resolver(() => Battle)
export class BattleResolver {
  @Query(() => [AttackStrategy], { description: 'What the attacker can do.' })
  attackStrategies(@Ctx() ctx: GraphQLContext): AttackStrategy[] {
    return ctx.services.battles.strategies(ctx.principal).map((s) => ({ ...s }));
  }

  @Query(() => BattleConnection, { description: 'Your battles (everyone’s for admins), newest first.' })
  async battles(@Args(() => JobListArgs) args: JobListArgs, @Ctx() ctx: GraphQLContext): Promise<BattleConnection> {
    const page = await ctx.services.battles.list(ctx.em, ctx.principal, { first: pageSize(args.first), after: decodeCursor(args.after) }, { model: args.model, status: args.status });
    return toConnection(page.nodes, page.hasMore, page.totalCount) as unknown as BattleConnection;
  }

  @Query(() => Battle, { nullable: true })
  battle(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<BattleView | null> {
    return ctx.services.battles.get(ctx.em, ctx.principal, id);
  }

  @Query(() => ModelVersionBattleStats, { description: 'Evasion rate by strategy across the battles against one model version (yours; everyone’s for admins).' })
  async modelVersionBattleStats(@Arg('model', () => String) model: string, @Arg('version', () => Int) version: number, @Ctx() ctx: GraphQLContext): Promise<ModelVersionBattleStats> {
    const stats = await ctx.services.battles.versionStats(ctx.em, ctx.principal, model, version);
    return { ...stats, byStrategy: keyed(stats.byStrategy) };
  }

  @FieldResolver(() => [EvasionStats])
  byStrategy(@Root() battle: BattleView): EvasionStats[] {
    return keyed(battle.byStrategy);
  }

  @FieldResolver(() => [EvasionStats])
  bySplit(@Root() battle: BattleView): EvasionStats[] {
    return keyed(battle.bySplit);
  }

  @FieldResolver(() => BattleRoundConnection, { description: 'The rounds so far, in play order (a late joiner starts here).' })
  async rounds(@Root() battle: BattleView, @Args(() => RoundsArgs) args: RoundsArgs, @Ctx() ctx: GraphQLContext): Promise<BattleRoundConnection> {
    const page = await ctx.services.battles.rounds(ctx.em, battle.id, pageSize(args.first, 50), decodeIntCursor('round', args.after), { strategy: args.strategy, detected: args.detected });
    return toConnection(page.nodes, page.hasMore, page.totalCount, (n) => encodeKeyCursor('round', n.index)) as unknown as BattleRoundConnection;
  }

  @FieldResolver(() => TrainingRun, { nullable: true, description: 'The retrain this battle triggered (its resultVersion is the challenger).' })
  retrainRun(@Root() battle: BattleView, @Ctx() ctx: GraphQLContext): Promise<TrainingRunView | null> | null {
    return battle.retrainRunId ? ctx.services.training.get(ctx.em, ctx.principal, battle.retrainRunId) : null;
  }

  @Mutation(() => BattlePayload, { description: 'Queues a battle; watch it with battleUpdated and battleRoundCompleted.' })
  async createBattle(@Arg('input', () => CreateBattleInput) input: CreateBattleInput, @Ctx() ctx: GraphQLContext): Promise<BattlePayload> {
    return { battle: await ctx.services.battles.create(ctx.em, ctx.principal, input) } as unknown as BattlePayload;
  }

  @Mutation(() => BattlePayload, { description: 'Stops a queued or running battle.' })
  async cancelBattle(@Arg('input', () => BattleIdInput) input: BattleIdInput, @Ctx() ctx: GraphQLContext): Promise<BattlePayload> {
    return { battle: await ctx.services.battles.cancel(ctx.em, ctx.principal, input.id) } as unknown as BattlePayload;
  }

  @Mutation(() => BattlePayload, { description: 'The same attack against the alias’s current version, with a fresh random seed.' })
  async rematch(@Arg('input', () => BattleIdInput) input: BattleIdInput, @Ctx() ctx: GraphQLContext): Promise<BattlePayload> {
    return { battle: await ctx.services.battles.rematch(ctx.em, ctx.principal, input.id) } as unknown as BattlePayload;
  }

  @Subscription(() => Battle, {
    description: 'The battle’s state at once, then its status and counters after every batch of rounds, until it ends.',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      return ctx.services.battles.watch(ctx.principal, String(args['battleId']));
    },
  })
  battleUpdated(@Arg('battleId', () => ID) _battleId: string, @Root() battle: BattleView): BattleView {
    return battle;
  }

  @Subscription(() => BattleRoundsEvent, {
    description: 'Rounds as they are stored, a batch per event, until the battle ends.',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      return ctx.services.battles.watchRounds(ctx.principal, String(args['battleId']));
    },
  })
  battleRoundCompleted(@Arg('battleId', () => ID) _battleId: string, @Root() event: BattleRoundsEventView): BattleRoundsEventView {
    return event;
  }
}

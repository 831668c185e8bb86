import { Arg, Args, ArgsType, Ctx, Field, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { decodeCursor, pageSize, toConnection } from '../graphql/connection.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { PingJobView } from '../services/index.js';
import { PingJob, PingJobConnection, RequestPingInput, RequestPingPayload } from './ping.types.js';

@ArgsType()
class PingJobsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, 1 to 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'An endCursor from a previous page.' })
  after?: string | null;
}

@Resolver(() => PingJob)
export class PingResolver {
  @Query(() => PingJob, { nullable: true })
  pingJob(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<PingJobView | null> {
    return ctx.services.ping.get(ctx.em, ctx.principal, id);
  }

  @Query(() => PingJobConnection, { description: 'Ping jobs, newest first.' })
  async pingJobs(@Args(() => PingJobsArgs) args: PingJobsArgs, @Ctx() ctx: GraphQLContext): Promise<PingJobConnection> {
    const page = await ctx.services.ping.list(ctx.em, ctx.principal, { first: pageSize(args.first), after: decodeCursor(args.after) });
    return toConnection(page.nodes, page.hasMore, await page.totalCount());
  }

  @Mutation(() => RequestPingPayload, { description: 'Enqueues a ping job; watch it with `pingJobUpdated`.' })
  async requestPing(
    @Arg('input', () => RequestPingInput) input: RequestPingInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RequestPingPayload> {
    return { pingJob: await ctx.services.ping.request(ctx.em, ctx.principal, input) };
  }

  @Subscription(() => PingJob, {
    description: 'The job’s current state at once, then every change until it finishes.',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      return ctx.services.ping.watch(ctx.principal, String(args['id']));
    },
  })
  pingJobUpdated(@Arg('id', () => ID) _id: string, @Root() job: PingJobView): PingJobView {
    return job;
  }
}

import { Ctx, Field, Float, ObjectType, Query, Resolver } from 'type-graphql';
import { modeOf } from '../config/index.js';
import type { GraphQLContext } from '../graphql/context.js';
import { VERSION } from '../version.js';

@ObjectType({ description: 'What this server is and how it is deployed.' })
export class ServerInfo {
  @Field(() => String)
  version!: string;

  @Field(() => String, { description: '`embedded` (PGlite, in-process jobs) or `scaled` (PostgreSQL and/or Redis).' })
  mode!: string;

  @Field(() => String, { description: '`pglite` or `postgres`.' })
  database!: string;

  @Field(() => String, { description: '`in-process` or `bullmq`.' })
  queue!: string;

  @Field(() => Float)
  uptimeSeconds!: number;
}

@Resolver()
export class SystemResolver {
  @Query(() => ServerInfo)
  serverInfo(@Ctx() ctx: GraphQLContext): ServerInfo {
    const { runtime } = ctx;
    return {
      version: VERSION,
      mode: modeOf(runtime.config),
      database: runtime.db.kind,
      queue: runtime.queue.kind,
      uptimeSeconds: (Date.now() - runtime.startedAt.getTime()) / 1000,
    };
  }
}

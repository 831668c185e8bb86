export { ArenaGraphQLError, createArenaClient } from './client.js';
export type { ArenaClient, ArenaClientOptions } from './client.js';
export * from './generated/graphql.js';

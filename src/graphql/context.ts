import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import type { Runtime } from '../runtime.js';
import type { Services } from '../services/index.js';

/** Built per HTTP request and per WebSocket operation. */
export interface GraphQLContext {
  readonly requestId: string;
  readonly log: Logger;
  /** Forked for this request: its own identity map, never shared. */
  readonly em: EntityManager;
  readonly services: Services;
  readonly runtime: Runtime;
}

export function createContext(runtime: Runtime, requestId: string, log: Logger): GraphQLContext {
  return { requestId, log, em: runtime.db.fork(), services: runtime.services, runtime };
}

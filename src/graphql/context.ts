import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import type { Runtime } from '../runtime.js';
import type { Services } from '../services/index.js';

/** Built per HTTP request and per WebSocket operation. */
export interface GraphQLContext {
  readonly requestId: string;
  /** A child logger bound to the request id. */
  readonly log: Logger;
  /** Forked for this request: its own identity map, never shared. */
  readonly em: EntityManager;
  readonly services: Services;
  readonly runtime: Runtime;
  /** Who is asking; null until sign-in exists (the security issue). */
  readonly principal: string | null;
}

/**
 * The logger and the EntityManager are made on first use: forking and binding a child logger
 * cost tens of microseconds that most small queries never need (see bench/). The getters live
 * on the prototype because Apollo copies each context with Object.assign, which would call
 * own-property getters at once.
 */
class RequestContext implements GraphQLContext {
  private forked: EntityManager | undefined = undefined;
  private logger: Logger | undefined = undefined;

  constructor(
    readonly runtime: Runtime,
    readonly requestId: string,
    private readonly bindings: Record<string, unknown>,
  ) {}

  get principal(): string | null {
    return null;
  }

  get services(): Services {
    return this.runtime.services;
  }

  get em(): EntityManager {
    return (this.forked ??= this.runtime.db.fork());
  }

  get log(): Logger {
    return (this.logger ??= this.runtime.log.child({ reqId: this.requestId, ...this.bindings }));
  }
}

export function createContext(runtime: Runtime, requestId: string, bindings: Record<string, unknown> = {}): GraphQLContext {
  return new RequestContext(runtime, requestId, bindings);
}

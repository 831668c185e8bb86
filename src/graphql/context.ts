import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import type { Runtime } from '../runtime.js';
import type { Principal, Services } from '../services/index.js';

/** Built per HTTP request and per WebSocket operation. */
export interface GraphQLContext {
  readonly requestId: string;
  /** A child logger bound to the request id. */
  readonly log: Logger;
  /** Forked for this request: its own identity map, never shared. */
  readonly em: EntityManager;
  readonly services: Services;
  readonly runtime: Runtime;
  /** Who is asking (authenticated before the operation runs); null for anonymous requests. */
  readonly principal: Principal | null;
  /** The client's address, for rate limits and the audit log. */
  readonly ip: string | null;
}

export interface RequestIdentity {
  readonly principal: Principal | null;
  readonly ip: string | null;
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

  readonly principal: Principal | null;
  readonly ip: string | null;

  constructor(
    readonly runtime: Runtime,
    readonly requestId: string,
    identity: RequestIdentity,
    private readonly bindings: Record<string, unknown>,
  ) {
    this.principal = identity.principal;
    this.ip = identity.ip;
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

export function createContext(
  runtime: Runtime,
  requestId: string,
  identity: RequestIdentity,
  bindings: Record<string, unknown> = {},
): GraphQLContext {
  return new RequestContext(runtime, requestId, identity, bindings);
}

import type { EntityManager } from '@mikro-orm/postgresql';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobStatus } from '../domain/index.js';
import { PingJob, type PageRequest } from '../entities/index.js';
import { canRead } from '../domain/index.js';
import { badInput } from '../errors.js';
import type { Principal, PrincipalDirectory } from './auth/principals.js';
import { authorizedEvents, mayCreate, privateTo, signedIn } from './authz.js';
import type { JobContext } from '../queue/index.js';
import type { ServiceDeps } from './context.js';
import { runJob } from './job-runner.js';
import { dispatchJob, watchJob } from './job-views.js';

export const PING_LIMITS = Object.freeze({ maxMessageLength: 1000, maxDelayMs: 60_000 });

/** The ping job as clients see it; plain JSON so it can travel through Redis unchanged. */
export interface PingJobView {
  readonly id: string;
  readonly message: string;
  readonly delayMs: number;
  /** The user who asked. */
  readonly owner: string | null;
  readonly status: JobStatus;
  readonly reply: string | null;
  readonly attempts: number;
  readonly workerId: string | null;
  readonly error: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface RequestPingInput {
  readonly message: string;
  readonly delayMs?: number | null;
}

const topic = (id: string) => `ping.${id}`;

function toView(row: PingJob): PingJobView {
  return {
    id: row.id,
    message: row.message,
    delayMs: row.delayMs,
    owner: row.owner,
    status: row.status,
    reply: row.reply,
    attempts: row.attempts,
    workerId: row.workerId,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/**
 * The trivial job that proves the wiring end to end: a mutation writes a row and enqueues it, a
 * worker answers, and the answer reaches a subscriber over whichever pub/sub is configured.
 */
export class PingService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly principals: PrincipalDirectory,
  ) {}

  async request(em: EntityManager, actor: Principal | null, input: RequestPingInput): Promise<PingJobView> {
    const owner = mayCreate(actor);
    const message = input.message.trim();
    const delayMs = input.delayMs ?? 0;
    if (message.length === 0) throw badInput('message must not be empty.', { field: 'message' });
    if (message.length > PING_LIMITS.maxMessageLength) {
      throw badInput(`message is ${message.length} characters; the limit is ${PING_LIMITS.maxMessageLength}.`, { field: 'message' });
    }
    if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > PING_LIMITS.maxDelayMs) {
      throw badInput(`delayMs must be a whole number from 0 to ${PING_LIMITS.maxDelayMs}.`, { field: 'delayMs' });
    }
    const row = em.create(PingJob, { message, delayMs, owner: owner.id, createdAt: this.deps.now(), updatedAt: this.deps.now() });
    await em.flush();
    await this.dispatch(row.id);
    return toView(row);
  }

  dispatch(id: string): Promise<void> {
    return dispatchJob(this.deps, 'ping', { pingJobId: id }, id);
  }

  /** Null when there is no such job or the caller may not see it. */
  async get(em: EntityManager, actor: Principal | null, id: string): Promise<PingJobView | null> {
    const me = signedIn(actor);
    const row = await em.getRepository(PingJob).findOne({ id });
    return row && canRead(me, privateTo(row.owner)) ? toView(row) : null;
  }

  /** The caller's jobs (everyone's for admins), newest first. */
  async list(em: EntityManager, actor: Principal | null, page: PageRequest): Promise<{ nodes: PingJobView[]; hasMore: boolean; totalCount: () => Promise<number> }> {
    const me = signedIn(actor);
    const repo = em.getRepository(PingJob);
    const owner = me.role === 'admin' ? undefined : me.id;
    const { rows, hasMore } = await repo.listPage(page, owner);
    return { nodes: rows.map(toView), hasMore, totalCount: () => repo.count(owner === undefined ? {} : { owner }) };
  }

  /** The job's current state, then every change until it finishes (see watchJob), while the caller may see it. */
  async watch(actor: Principal | null, id: string): Promise<AsyncIterableIterator<PingJobView>> {
    const me = signedIn(actor);
    const events = await watchJob(this.deps, topic(id), 'ping job', id, () => this.get(this.deps.db.fork(), me, id));
    return authorizedEvents(this.principals, me, events, (view) => canRead(me, privateTo(view.owner)));
  }

  /** The worker side. */
  execute(pingJobId: string, ctx: JobContext): Promise<void> {
    return runJob<PingJob>({
      em: this.deps.db.fork(),
      repository: (em) => em.getRepository(PingJob),
      id: pingJobId,
      workerId: this.deps.workerId,
      ctx,
      maxAttempts: this.deps.config.jobMaxAttempts,
      heartbeatMs: Math.max(1000, Math.floor(this.deps.config.jobStaleAfterMs / 4)),
      publish: (row) => this.deps.events.publish(topic(row.id), toView(row)),
      work: async (row, signal) => {
        if (row.delayMs > 0) await sleep(row.delayMs, undefined, { signal });
        return { reply: `pong: ${row.message}` };
      },
    });
  }

  /** Exposed for the reconciler, which republishes rows it changes. */
  async publishCurrent(em: EntityManager, id: string): Promise<void> {
    const row = await em.getRepository(PingJob).findOne({ id });
    const view = row ? toView(row) : null;
    if (view) await this.deps.events.publish(topic(id), view);
  }
}

import type { EntityManager, EntityName, FilterQuery } from '@mikro-orm/postgresql';
import { isAdmin, isTerminal, type JobStatus } from '../domain/index.js';
import type { JobRow, JobRowRepository, PageRequest } from '../entities/index.js';
import type { Principal } from './auth/principals.js';
import { AppError, notFound } from '../errors.js';
import { liveView } from '../pubsub/index.js';
import type { JobPayloads, QueueName } from '../queue/index.js';
import type { ServiceDeps } from './context.js';

/** What a list of one kind of job may be narrowed to. */
export interface JobListFilter {
  readonly model?: string | null;
  readonly status?: JobStatus | null;
}

/**
 * A page of one kind of job, newest first: the caller's own, everyone's for admins, by model and
 * status. Battles, training runs and bulk inference jobs list alike.
 */
export async function listJobs<T extends JobRow & { modelName: string; principal: string | null }, V>(
  em: EntityManager,
  entity: EntityName<T>,
  me: Principal,
  page: PageRequest,
  filter: JobListFilter,
  view: (row: T) => V,
) {
  const where = {
    ...(isAdmin(me) ? {} : { principal: me.id }),
    ...(filter.model ? { modelName: filter.model } : {}),
    ...(filter.status ? { status: filter.status } : {}),
  } as FilterQuery<T>;
  const { rows, hasMore } = await (em.getRepository(entity) as unknown as JobRowRepository<T>).pageNewestFirst(page, where);
  return { nodes: rows.map(view), hasMore, totalCount: () => em.fork().count(entity, where) };
}

/** CONFLICT for a job that already ended: only queued or running ones can be cancelled. */
export function assertCancellable(status: JobStatus, what: string, id: string): void {
  if (isTerminal(status)) {
    throw new AppError('CONFLICT', `The ${what} ${id} already ${status.toLowerCase()}; only queued or running ones can be cancelled.`, { status });
  }
}

/**
 * Enqueues a committed job row. Failures are logged, not thrown: the row is committed and the
 * reconciler re-dispatches it.
 */
export async function dispatchJob<Q extends QueueName>(deps: ServiceDeps, queue: Q, payload: JobPayloads[Q], id: string): Promise<void> {
  try {
    await deps.queue.enqueue(queue, payload, id);
  } catch (err) {
    deps.log.warn({ err, queue, jobId: id }, 'enqueue failed; the reconciler will re-dispatch');
  }
}

/**
 * A job's current state, then every change until it finishes. Subscribing before reading means a
 * change made in between is seen (possibly twice, never lost). An unknown id rejects here, before
 * any stream exists, so the client gets a NOT_FOUND rather than a broken stream.
 */
export async function watchJob<V extends { readonly status: JobStatus }>(
  deps: ServiceDeps,
  topic: string,
  what: string,
  id: string,
  load: () => Promise<V | null>,
): Promise<AsyncIterableIterator<V>> {
  const events = await deps.events.subscribe<V>(topic);
  const current = await load().catch(async (error: unknown) => {
    await events.return?.();
    throw error;
  });
  if (!current) {
    await events.return?.();
    throw notFound(what, id);
  }
  return liveView(current, events, (view) => isTerminal(view.status));
}

/** Ends a stream of a job's side events (metric points, rounds): published when the job ends. */
export const STREAM_END = { end: true } as const;

/**
 * A job's side events (a run's metric points, a battle's rounds) from now until the job ends
 * (STREAM_END on the topic), after the job is read: an unknown or unreadable job rejects here with
 * NOT_FOUND, and one already ended completes at once (what came before is in the job's query).
 */
export async function watchUntilEnd<V extends object>(
  deps: ServiceDeps,
  topic: string,
  what: string,
  id: string,
  load: () => Promise<{ readonly status: JobStatus } | null>,
): Promise<AsyncIterableIterator<V>> {
  const events = await deps.events.subscribe<V | typeof STREAM_END>(topic);
  const current = await load().catch(async (error: unknown) => {
    await events.return?.();
    throw error;
  });
  if (!current) {
    await events.return?.();
    throw notFound(what, id);
  }
  const ended = isTerminal(current.status);
  const stop = async (): Promise<IteratorResult<V>> => {
    await events.return?.();
    return { done: true, value: undefined };
  };
  const stream: AsyncIterableIterator<V> = {
    next: async () => {
      if (ended) return stop();
      const step = await events.next();
      if (step.done || 'end' in step.value) return stop();
      return { done: false, value: step.value as V };
    },
    return: stop,
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}

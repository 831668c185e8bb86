import { EntityRepository, raw, type FilterQuery } from '@mikro-orm/postgresql';
import type { JobRowSnapshot, TerminalJobStatus } from '../domain/index.js';
import type { JobRow } from './job-row.entity.js';

export interface PageRequest {
  readonly first: number;
  /** Exclusive lower bound in newest-first order: the (createdAt, id) of the last row seen. */
  readonly after: { readonly createdAt: Date; readonly id: string } | undefined;
}

/**
 * State changes of job rows as conditional updates, so that two processes racing on one row
 * (a reconciler and a worker, two reconcilers) cannot both win: each returns whether it did.
 */
export class JobRowRepository<T extends JobRow> extends EntityRepository<T> {
  private async update(where: Record<string, unknown>, data: Record<string, unknown>): Promise<boolean> {
    const affected = await this.em
      .createQueryBuilder(this.entityName)
      .update({ ...data, updatedAt: new Date() } as never)
      .where(where)
      .execute('run');
    return (affected as { affectedRows?: number }).affectedRows === 1;
  }

  /** QUEUED (or RUNNING under a vanished worker) → RUNNING under this worker. */
  claim(id: string, workerId: string, now = new Date()): Promise<boolean> {
    return this.update(
      { id, status: { $in: ['QUEUED', 'RUNNING'] } },
      { status: 'RUNNING', workerId, attempts: raw('attempts + 1'), startedAt: now, heartbeatAt: now, error: null },
    );
  }

  /** False when the row is no longer ours to run (cancelled, reclaimed): the worker should stop. */
  heartbeat(id: string, workerId: string, now = new Date()): Promise<boolean> {
    return this.em
      .createQueryBuilder(this.entityName)
      .update({ heartbeatAt: now } as never)
      .where({ id, workerId, status: 'RUNNING' })
      .execute('run')
      .then((r) => (r as { affectedRows?: number }).affectedRows === 1);
  }

  finish(id: string, workerId: string, status: TerminalJobStatus, data: Record<string, unknown> = {}): Promise<boolean> {
    return this.update({ id, workerId, status: 'RUNNING' }, { ...data, status, finishedAt: new Date() });
  }

  /** QUEUED or RUNNING → CANCELLED; false when it had already ended. The worker holding it stops at its next write or heartbeat. */
  cancel(id: string, reason: string): Promise<boolean> {
    return this.update({ id, status: { $in: ['QUEUED', 'RUNNING'] } }, { status: 'CANCELLED', error: reason, finishedAt: new Date() });
  }

  /** Newest first, keyset-paginated on (createdAt, id) so deep pages cost the same as the first. */
  async pageNewestFirst(page: PageRequest, where: FilterQuery<T> = {} as FilterQuery<T>): Promise<{ rows: T[]; hasMore: boolean }> {
    const after = page.after
      ? { $or: [{ createdAt: { $lt: page.after.createdAt } }, { createdAt: page.after.createdAt, id: { $lt: page.after.id } }] }
      : {};
    const rows = await this.find({ $and: [where, after] } as FilterQuery<T>, { orderBy: { createdAt: 'desc', id: 'desc' } as never, limit: page.first + 1 });
    return { rows: rows.slice(0, page.first), hasMore: rows.length > page.first };
  }

  /** Fails a row that never reached a worker (its job could not be dispatched or was rejected). */
  failQueued(id: string, error: string): Promise<boolean> {
    return this.update({ id, status: { $in: ['QUEUED', 'RUNNING'] } }, { status: 'FAILED', error, finishedAt: new Date() });
  }

  /** RUNNING → QUEUED, by the worker that holds it (graceful shutdown, or a failure to retry). */
  handBack(id: string, workerId: string, error: string | null = null): Promise<boolean> {
    return this.update({ id, workerId, status: 'RUNNING' }, { status: 'QUEUED', workerId: null, heartbeatAt: null, error });
  }

  /** RUNNING → QUEUED for a row whose worker went silent before `silentSince`. */
  requeueStale(id: string, silentSince: Date, reason: string): Promise<boolean> {
    return this.update(
      { id, status: 'RUNNING', heartbeatAt: { $lt: silentSince } },
      { status: 'QUEUED', workerId: null, heartbeatAt: null, error: reason },
    );
  }

  failStale(id: string, silentSince: Date, reason: string): Promise<boolean> {
    return this.update(
      { id, status: 'RUNNING', heartbeatAt: { $lt: silentSince } },
      { status: 'FAILED', error: reason, finishedAt: new Date() },
    );
  }

  /** Rows the reconciler should look at: QUEUED for a while, or RUNNING without a recent heartbeat. */
  async findPossiblyOrphaned(queuedBefore: Date, silentSince: Date, limit = 500): Promise<JobRowSnapshot[]> {
    const rows = await this.em
      .createQueryBuilder(this.entityName)
      .select(['id', 'status', 'attempts', 'updatedAt', 'heartbeatAt'])
      .where({
        $or: [
          { status: 'QUEUED', updatedAt: { $lte: queuedBefore } },
          { status: 'RUNNING', heartbeatAt: { $lt: silentSince } },
        ],
      })
      .orderBy({ updatedAt: 'asc' })
      .limit(limit)
      .getResultList();
    return rows.map((r) => ({
      id: r.id,
      status: r.status as JobRowSnapshot['status'],
      attempts: r.attempts,
      updatedAt: r.updatedAt,
      heartbeatAt: r.heartbeatAt,
    }));
  }
}

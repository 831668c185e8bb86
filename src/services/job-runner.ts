import type { EntityManager } from '@mikro-orm/postgresql';
import { isTerminal } from '../domain/index.js';
import type { JobRow, JobRowRepository } from '../entities/index.js';
import { JobHandedBackError, PermanentJobError, type JobContext } from '../queue/index.js';

export interface RunJobOptions<T extends JobRow> {
  readonly em: EntityManager;
  readonly repository: (em: EntityManager) => JobRowRepository<T>;
  readonly id: string;
  readonly workerId: string;
  readonly ctx: JobContext;
  readonly maxAttempts: number;
  readonly heartbeatMs: number;
  /** Called after every change of state, with the row as stored. */
  readonly publish: (row: T) => Promise<void>;
  /**
   * Called once the row is claimed, with a function that aborts the work: for jobs that hear of a
   * cancel sooner than the next heartbeat would tell them (an event on their control topic).
   */
  readonly watch?: (abort: (reason: unknown) => void) => Promise<void>;
  /** The work itself. Returns the columns to store on success. Must honour the signal. */
  readonly work: (row: T, signal: AbortSignal) => Promise<Partial<T>>;
}

/**
 * Runs one job-backed row through its lifecycle: claim, heartbeat, work, then finish, fail, hand
 * back or leave for a retry. The same rules for every kind of job, so a worker killed or shut
 * down at any point leaves a row the reconciler can recover.
 */
export async function runJob<T extends JobRow>(o: RunJobOptions<T>): Promise<void> {
  const repo = o.repository(o.em);
  const existing = await repo.findOne({ id: o.id } as never);
  if (!existing) throw new PermanentJobError(`job row ${o.id} does not exist`);
  if (isTerminal(existing.status)) return; // a replayed delivery of a finished job
  if (!(await repo.claim(o.id, o.workerId))) return;
  // Each state is read into a fresh identity map: the row object the work holds (and may still be
  // changing when the job ends) is never what gets published as the job's final state.
  const reload = async () => {
    const row = await o.repository(o.em.fork()).findOneOrFail({ id: o.id } as never);
    await o.publish(row);
    return row;
  };
  const row = await reload();

  // Cancellation from outside (the row left RUNNING under us) and shutdown both abort the work.
  const local = new AbortController();
  const onOuterAbort = () => local.abort(o.ctx.signal.reason);
  o.ctx.signal.addEventListener('abort', onOuterAbort, { once: true });
  const beats = setInterval(() => {
    void o
      .repository(o.em.fork())
      .heartbeat(o.id, o.workerId)
      .then((stillOurs) => {
        if (!stillOurs) local.abort(new Error('job is no longer held by this worker'));
      })
      .catch((err: unknown) => o.ctx.log.warn({ err }, 'heartbeat failed'));
  }, o.heartbeatMs);
  beats.unref();

  try {
    await o.watch?.((reason) => local.abort(reason));
    const result = await o.work(row, local.signal);
    if (await repo.finish(o.id, o.workerId, 'SUCCEEDED', result as Record<string, unknown>)) await reload();
  } catch (error) {
    if (o.ctx.signal.aborted) {
      if (await repo.handBack(o.id, o.workerId)) await reload();
      throw new JobHandedBackError(`job ${o.id} handed back: ${String(o.ctx.signal.reason)}`);
    }
    if (local.signal.aborted) return; // cancelled or reclaimed: whoever did that owns the row now
    const message = error instanceof Error ? error.message : String(error);
    const final = error instanceof PermanentJobError || o.ctx.attempt >= o.maxAttempts;
    const changed = final
      ? await repo.finish(o.id, o.workerId, 'FAILED', { error: message })
      : await repo.handBack(o.id, o.workerId, `attempt ${o.ctx.attempt} failed, will retry: ${message}`);
    if (changed) await reload();
    throw final && !(error instanceof PermanentJobError) ? new PermanentJobError(message) : error;
  } finally {
    clearInterval(beats);
    o.ctx.signal.removeEventListener('abort', onOuterAbort);
  }
}

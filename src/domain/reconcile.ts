import type { JobStatus } from './job-status.js';

/** What the reconciler knows about a non-terminal job row. */
export interface JobRowSnapshot {
  readonly id: string;
  readonly status: Extract<JobStatus, 'QUEUED' | 'RUNNING'>;
  readonly attempts: number;
  /** When the row last changed state (enqueued, handed back). */
  readonly updatedAt: Date;
  /** Last sign of life from the worker running it; null before it started. */
  readonly heartbeatAt: Date | null;
}

export interface ReconcilePolicy {
  /** A QUEUED row older than this is re-dispatched (its enqueue may have been lost). */
  readonly queuedGraceMs: number;
  /** A RUNNING row with no heartbeat for this long has lost its worker. */
  readonly staleAfterMs: number;
  readonly maxAttempts: number;
}

export type ReconcileAction =
  | { readonly kind: 'redispatch'; readonly id: string }
  | { readonly kind: 'requeue'; readonly id: string; readonly reason: string }
  | { readonly kind: 'fail'; readonly id: string; readonly reason: string };

/**
 * Decides what to do with rows that may be orphaned. Re-dispatching is always safe because the
 * queue deduplicates by job id (= row id); requeue and fail are conditional updates in the
 * store, so two reconcilers racing on one row cannot both win.
 */
export function planReconciliation(
  rows: readonly JobRowSnapshot[],
  now: Date,
  policy: ReconcilePolicy,
): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  for (const row of rows) {
    if (row.status === 'QUEUED') {
      if (now.getTime() - row.updatedAt.getTime() >= policy.queuedGraceMs) {
        actions.push({ kind: 'redispatch', id: row.id });
      }
      continue;
    }
    const lastSign = row.heartbeatAt ?? row.updatedAt;
    const silentMs = now.getTime() - lastSign.getTime();
    if (silentMs < policy.staleAfterMs) continue;
    const reason = `worker lost: no heartbeat for ${Math.round(silentMs / 1000)} s`;
    if (row.attempts < policy.maxAttempts) {
      actions.push({ kind: 'requeue', id: row.id, reason });
    } else {
      actions.push({ kind: 'fail', id: row.id, reason: `${reason}; gave up after ${row.attempts} attempts` });
    }
  }
  return actions;
}

import { describe, expect, it } from 'vitest';
import { planReconciliation, type JobRowSnapshot, type ReconcilePolicy } from '../../src/domain/index.js';

const now = new Date('2026-01-01T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const policy: ReconcilePolicy = { queuedGraceMs: 10_000, staleAfterMs: 60_000, maxAttempts: 3 };
const row = (r: Partial<JobRowSnapshot> & Pick<JobRowSnapshot, 'id' | 'status'>): JobRowSnapshot => ({
  attempts: 0,
  updatedAt: ago(0),
  heartbeatAt: null,
  ...r,
});

describe('planReconciliation', () => {
  it.each([
    ['fresh QUEUED row is left to its enqueue', row({ id: 'a', status: 'QUEUED', updatedAt: ago(5_000) }), []],
    ['QUEUED past the grace is re-dispatched', row({ id: 'a', status: 'QUEUED', updatedAt: ago(10_000) }), [{ kind: 'redispatch', id: 'a' }]],
    ['RUNNING with a recent heartbeat is left alone', row({ id: 'b', status: 'RUNNING', attempts: 1, heartbeatAt: ago(59_000) }), []],
    [
      'RUNNING and silent is requeued while attempts remain',
      row({ id: 'b', status: 'RUNNING', attempts: 2, heartbeatAt: ago(90_000) }),
      [{ kind: 'requeue', id: 'b', reason: 'worker lost: no heartbeat for 90 s' }],
    ],
    [
      'RUNNING and silent on the last attempt fails',
      row({ id: 'c', status: 'RUNNING', attempts: 3, heartbeatAt: ago(61_000) }),
      [{ kind: 'fail', id: 'c', reason: 'worker lost: no heartbeat for 61 s; gave up after 3 attempts' }],
    ],
    [
      'RUNNING without any heartbeat is judged by its last update',
      row({ id: 'd', status: 'RUNNING', attempts: 1, updatedAt: ago(120_000) }),
      [{ kind: 'requeue', id: 'd', reason: 'worker lost: no heartbeat for 120 s' }],
    ],
  ])('%s', (_name, input, expected) => {
    expect(planReconciliation([input], now, policy)).toEqual(expected);
  });

  it('grace 0 re-dispatches every QUEUED row (start-up of an in-process queue)', () => {
    const rows = [row({ id: 'x', status: 'QUEUED' }), row({ id: 'y', status: 'QUEUED', updatedAt: ago(1) })];
    expect(planReconciliation(rows, now, { ...policy, queuedGraceMs: 0 }).map((a) => a.id)).toEqual(['x', 'y']);
  });
});

import { describe, expect, it } from 'vitest';
import { JOB_STATUSES, canTransition, isTerminal, type JobStatus } from '../../src/domain/index.js';

describe('job status', () => {
  it.each<[JobStatus, boolean]>([
    ['QUEUED', false],
    ['RUNNING', false],
    ['SUCCEEDED', true],
    ['FAILED', true],
    ['CANCELLED', true],
  ])('%s terminal: %s', (status, terminal) => {
    expect(isTerminal(status)).toBe(terminal);
  });

  const allowed: Record<JobStatus, JobStatus[]> = {
    QUEUED: ['RUNNING', 'FAILED', 'CANCELLED'],
    RUNNING: ['RUNNING', 'QUEUED', 'SUCCEEDED', 'FAILED', 'CANCELLED'],
    SUCCEEDED: [],
    FAILED: [],
    CANCELLED: [],
  };
  const cases = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to, allowed[from].includes(to)] as const));

  it.each(cases)('%s → %s allowed: %s', (from, to, expected) => {
    expect(canTransition(from, to)).toBe(expected);
  });
});

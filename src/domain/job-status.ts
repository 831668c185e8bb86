/**
 * The lifecycle every job-backed row follows (ping jobs now; training runs, battles and inference
 * jobs later). The database row owns the status; queues only carry ids.
 */
export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type TerminalJobStatus = Extract<JobStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED'>;

export function unreachable(value: never): never {
  throw new Error(`Unreachable case: ${JSON.stringify(value)}`);
}

export function isTerminal(status: JobStatus): status is TerminalJobStatus {
  switch (status) {
    case 'QUEUED':
    case 'RUNNING':
      return false;
    case 'SUCCEEDED':
    case 'FAILED':
    case 'CANCELLED':
      return true;
    default:
      return unreachable(status);
  }
}

/**
 * Allowed moves. RUNNING → QUEUED is a hand-back (graceful shutdown, or a lost worker whose job
 * is retried); RUNNING → RUNNING is a new worker resuming a job whose previous worker vanished.
 */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  switch (from) {
    case 'QUEUED':
      return to === 'RUNNING' || to === 'CANCELLED' || to === 'FAILED';
    case 'RUNNING':
      return to === 'RUNNING' || to === 'QUEUED' || to === 'SUCCEEDED' || to === 'FAILED' || to === 'CANCELLED';
    case 'SUCCEEDED':
    case 'FAILED':
    case 'CANCELLED':
      return false;
    default:
      return unreachable(from);
  }
}

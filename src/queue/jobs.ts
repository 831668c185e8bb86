import type { Logger } from '../logger.js';

/**
 * The typed map from queue name to job payload. Payloads carry ids only: the row they point at
 * owns the status. One queue per job name keeps routing obvious (`arena worker --queues ping`).
 */
export interface JobPayloads {
  ping: { readonly pingJobId: string };
  inference: { readonly inferenceJobId: string };
  training: { readonly trainingRunId: string };
  battle: { readonly battleId: string };
}

export type QueueName = keyof JobPayloads;
export const QUEUE_NAMES = ['ping', 'inference', 'training', 'battle'] as const satisfies readonly QueueName[];

export function isQueueName(value: string): value is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(value);
}

export interface JobContext {
  readonly jobId: string;
  /** 1 for the first try. */
  readonly attempt: number;
  /** Aborted when the worker shuts down past its grace period or the job is cancelled. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

export type JobHandler<Q extends QueueName> = (payload: JobPayloads[Q], ctx: JobContext) => Promise<void>;

/** Exactly one handler per queue: a missing one is a compile error and a start-up error. */
export type JobHandlers = { readonly [Q in QueueName]: JobHandler<Q> };

/** A failure that retrying cannot fix (bad input, missing row): the job fails at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/** Thrown by a handler that gave its job back (row set to QUEUED) because it was aborted. */
export class JobHandedBackError extends Error {
  override name = 'JobHandedBackError';
}

export function assertHandlers(handlers: Partial<Record<string, unknown>>, queues: readonly QueueName[]): void {
  const missing = queues.filter((q) => typeof handlers[q] !== 'function');
  if (missing.length > 0) throw new Error(`No job handler registered for queue(s): ${missing.join(', ')}`);
}

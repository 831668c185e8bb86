import type { JobHandlers, JobPayloads, QueueName } from './jobs.js';

export interface QueueDepth {
  readonly queue: QueueName;
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly failed: number;
}

export interface ConsumeOptions {
  readonly queues: readonly QueueName[];
  readonly concurrency: number;
}

export interface Consumer {
  /** Stops taking jobs, waits up to graceMs for running ones, then aborts them so they hand back. Idempotent. */
  close(graceMs: number): Promise<void>;
}

/** Dispatches jobs by id. Adding a job whose id is already waiting or running is a no-op. */
export interface JobQueue {
  readonly kind: 'bullmq' | 'in-process';
  enqueue<Q extends QueueName>(queue: Q, payload: JobPayloads[Q], jobId: string): Promise<void>;
  /** Like enqueue, but also replaces a finished job left under the same id. Used by the reconciler. */
  redispatch<Q extends QueueName>(queue: Q, payload: JobPayloads[Q], jobId: string): Promise<void>;
  consume(handlers: JobHandlers, options: ConsumeOptions): Consumer;
  depths(): Promise<QueueDepth[]>;
  close(): Promise<void>;
}

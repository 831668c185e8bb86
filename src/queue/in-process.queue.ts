import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { JobHandedBackError, PermanentJobError, QUEUE_NAMES, assertHandlers, type JobHandlers, type JobPayloads, type QueueName } from './jobs.js';
import type { ConsumeOptions, Consumer, JobQueue, QueueDepth } from './queue.port.js';

interface PendingJob {
  readonly id: string;
  readonly payload: unknown;
  attempt: number;
}

interface Lane {
  readonly pending: PendingJob[];
  readonly known: Set<string>;
  readonly active: Map<string, { controller: AbortController; done: Promise<void> }>;
  delayed: number;
  failed: number;
  consumer: InProcessConsumer | undefined;
}

export interface InProcessQueueOptions {
  readonly maxAttempts: number;
  /** First retry delay; doubles on each attempt. */
  readonly backoffMs: number;
}

/**
 * The embedded-mode queue: jobs live in memory and run in this process. Nothing here survives a
 * restart, and nothing needs to: the rows stay QUEUED and the reconciler re-dispatches them.
 */
export class InProcessJobQueue implements JobQueue {
  readonly kind = 'in-process';
  private readonly lanes = new Map<QueueName, Lane>(
    QUEUE_NAMES.map((q) => [q, { pending: [], known: new Set(), active: new Map(), delayed: 0, failed: 0, consumer: undefined }]),
  );
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly options: InProcessQueueOptions = { maxAttempts: 3, backoffMs: 1000 },
  ) {}

  async enqueue<Q extends QueueName>(queue: Q, payload: JobPayloads[Q], jobId: string): Promise<void> {
    const lane = this.lane(queue);
    if (this.closed || lane.known.has(jobId)) return;
    lane.known.add(jobId);
    lane.pending.push({ id: jobId, payload, attempt: 1 });
    lane.consumer?.pump(queue);
  }

  redispatch<Q extends QueueName>(queue: Q, payload: JobPayloads[Q], jobId: string): Promise<void> {
    // Finished jobs leave nothing behind here, so a plain enqueue already replaces them.
    return this.enqueue(queue, payload, jobId);
  }

  consume(handlers: JobHandlers, options: ConsumeOptions): Consumer {
    assertHandlers(handlers, options.queues);
    const consumer = new InProcessConsumer(this, handlers, options);
    for (const q of options.queues) {
      const lane = this.lane(q);
      if (lane.consumer) throw new Error(`Queue ${q} already has a consumer in this process`);
      lane.consumer = consumer;
      consumer.pump(q);
    }
    return consumer;
  }

  async depths(): Promise<QueueDepth[]> {
    return QUEUE_NAMES.map((queue) => {
      const lane = this.lane(queue);
      return { queue, waiting: lane.pending.length, active: lane.active.size, delayed: lane.delayed, failed: lane.failed };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** @internal used by the consumer */
  lane(queue: QueueName): Lane {
    const lane = this.lanes.get(queue);
    if (!lane) throw new Error(`Unknown queue ${queue}`);
    return lane;
  }

  /** @internal */
  get logger(): Logger {
    return this.log;
  }

  /** @internal */
  get retry(): InProcessQueueOptions {
    return this.options;
  }
}

class InProcessConsumer implements Consumer {
  private stopping = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly queue: InProcessJobQueue,
    private readonly handlers: JobHandlers,
    private readonly options: ConsumeOptions,
  ) {}

  pump(name: QueueName): void {
    const lane = this.queue.lane(name);
    while (!this.stopping && lane.active.size < this.options.concurrency && lane.pending.length > 0) {
      const job = lane.pending.shift()!;
      const controller = new AbortController();
      const done = this.run(name, lane, job, controller).finally(() => {
        lane.active.delete(job.id);
        this.pump(name);
      });
      lane.active.set(job.id, { controller, done });
    }
  }

  private async run(name: QueueName, lane: Lane, job: PendingJob, controller: AbortController): Promise<void> {
    const log = this.queue.logger.child({ queue: name, jobId: job.id, attempt: job.attempt });
    const handler = this.handlers[name] as (payload: unknown, ctx: Parameters<JobHandlers[QueueName]>[1]) => Promise<void>;
    try {
      await handler(job.payload, { jobId: job.id, attempt: job.attempt, signal: controller.signal, log });
      lane.known.delete(job.id);
    } catch (error) {
      if (error instanceof JobHandedBackError) {
        // The row is QUEUED again; forget the job so the reconciler may dispatch it afresh.
        lane.known.delete(job.id);
        return;
      }
      const retry = this.queue.retry;
      if (error instanceof PermanentJobError || job.attempt >= retry.maxAttempts || this.stopping) {
        log.warn({ err: error }, 'job failed');
        lane.failed += 1;
        lane.known.delete(job.id);
        return;
      }
      log.info({ err: error }, 'job failed, will retry');
      lane.delayed += 1;
      const delay = retry.backoffMs * 2 ** (job.attempt - 1);
      void sleep(delay, undefined, { ref: false }).then(() => {
        lane.delayed -= 1;
        if (this.stopping) {
          lane.known.delete(job.id);
          return;
        }
        lane.pending.push({ ...job, attempt: job.attempt + 1 });
        this.pump(name);
      });
    }
  }

  close(graceMs: number): Promise<void> {
    this.closing ??= this.drain(graceMs);
    return this.closing;
  }

  private async drain(graceMs: number): Promise<void> {
    this.stopping = true;
    const running = () =>
      this.options.queues.flatMap((q) => [...this.queue.lane(q).active.values()]);
    const all = Promise.allSettled(running().map((r) => r.done));
    const timer = sleep(graceMs, 'timeout' as const, { ref: false });
    if ((await Promise.race([all.then(() => 'done' as const), timer])) === 'timeout') {
      for (const r of running()) r.controller.abort(new Error('worker shutting down'));
      await all;
    }
    for (const q of this.options.queues) {
      const lane = this.queue.lane(q);
      // Jobs not started are dropped from memory; their rows are still QUEUED.
      for (const job of lane.pending.splice(0)) lane.known.delete(job.id);
      lane.consumer = undefined;
    }
  }
}

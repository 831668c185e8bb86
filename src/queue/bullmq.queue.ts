import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { JobHandedBackError, PermanentJobError, QUEUE_NAMES, assertHandlers, type JobHandlers, type JobPayloads, type QueueName } from './jobs.js';
import type { ConsumeOptions, Consumer, JobQueue, QueueDepth } from './queue.port.js';

export interface BullMqQueueOptions {
  /** For producers: fails fast, since a lost enqueue is recovered by the reconciler. */
  readonly connection: Redis;
  /** For workers: BullMQ's blocking commands need `maxRetriesPerRequest: null`. */
  readonly workerConnection: Redis;
  /** Key prefix, so several deployments (or test runs) share one Redis without meeting. */
  readonly prefix: string;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  /**
   * How long a worker's lock on a job lasts without renewal (BullMQ renews it at half that), and
   * how often stalled jobs are looked for: a job whose worker died is delivered again after
   * about twice this. BullMQ's default is 30 s.
   */
  readonly lockDurationMs?: number;
  readonly log: Logger;
}

export class BullMqJobQueue implements JobQueue {
  readonly kind = 'bullmq';
  private readonly queues = new Map<QueueName, Queue>();
  private readonly consumers = new Set<BullMqConsumer>();

  constructor(private readonly options: BullMqQueueOptions) {}

  private queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.options.connection, prefix: this.options.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async enqueue<Q extends QueueName>(name: Q, payload: JobPayloads[Q], jobId: string): Promise<void> {
    await this.queue(name).add(name, payload, {
      jobId,
      attempts: this.options.maxAttempts,
      backoff: { type: 'exponential', delay: this.options.backoffMs },
      // The row keeps the outcome; finished jobs need not pile up in Redis.
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600, count: 1000 },
    });
  }

  async redispatch<Q extends QueueName>(name: Q, payload: JobPayloads[Q], jobId: string): Promise<void> {
    const existing = await this.queue(name).getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return;
      await existing.remove();
    }
    await this.enqueue(name, payload, jobId);
  }

  consume(handlers: JobHandlers, options: ConsumeOptions): Consumer {
    assertHandlers(handlers, options.queues);
    const consumer = new BullMqConsumer(this.options, handlers, options, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  async depths(): Promise<QueueDepth[]> {
    return Promise.all(
      QUEUE_NAMES.map(async (queue) => {
        const c = await this.queue(queue).getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
        return {
          queue,
          waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
          active: c.active ?? 0,
          delayed: c.delayed ?? 0,
          failed: c.failed ?? 0,
        };
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}

class BullMqConsumer implements Consumer {
  private readonly workers: Worker[];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: BullMqQueueOptions,
    handlers: JobHandlers,
    consume: ConsumeOptions,
    private readonly onClosed: () => void,
  ) {
    this.workers = consume.queues.map((name) => {
      const handler = handlers[name] as (payload: unknown, ctx: Parameters<JobHandlers[QueueName]>[1]) => Promise<void>;
      const worker = new Worker(
        name,
        async (job: Job, token?: string, signal?: AbortSignal) => {
          // The child logger only when a handler logs: making one per job cost ~15% of a no-op job.
          let log: Logger | undefined;
          try {
            await handler(job.data, {
              jobId: job.id!,
              attempt: job.attemptsMade + 1,
              signal: signal ?? new AbortController().signal,
              get log() {
                return (log ??= options.log.child({ queue: name, jobId: job.id, attempt: job.attemptsMade + 1 }));
              },
            });
          } catch (error) {
            if (error instanceof JobHandedBackError) {
              // Back to waiting, not failed: another worker picks it up with its attempts intact.
              await job.moveToWait(token);
              throw new WaitingError();
            }
            if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
            throw error;
          }
        },
        {
          // BullMQ duplicates this connection for its blocking commands.
          connection: options.workerConnection,
          prefix: options.prefix,
          concurrency: consume.concurrency,
          ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs, stalledInterval: options.lockDurationMs } : {}),
        },
      );
      worker.on('failed', (job, err) => options.log.warn({ queue: name, jobId: job?.id, err }, 'job failed'));
      worker.on('error', (err) => options.log.error({ queue: name, err }, 'worker error'));
      return worker;
    });
  }

  close(graceMs: number): Promise<void> {
    this.closing ??= this.drain(graceMs);
    return this.closing;
  }

  private async drain(graceMs: number): Promise<void> {
    const closed = Promise.all(this.workers.map((w) => w.close()));
    const outcome = await Promise.race([closed.then(() => 'done' as const), sleep(graceMs, 'timeout' as const, { ref: false })]);
    if (outcome === 'timeout') {
      for (const w of this.workers) w.cancelAllJobs('worker shutting down');
      await closed;
    }
    this.onClosed();
  }
}

import type { JobHandlers, QueueName } from '../queue/index.js';
import type { Runtime } from '../runtime.js';
import { createJobHandlers } from './handlers.js';

export interface WorkerOptions {
  readonly queues: readonly QueueName[];
  readonly concurrency: number;
}

export interface RunningWorker {
  /** Stops taking jobs; running ones get the grace period, then hand back. Idempotent. */
  close(): Promise<void>;
}

/**
 * Consumes the given queues and keeps the reconciler running. The first reconcile pass
 * re-dispatches every QUEUED row when the queue is in-process (it starts empty after a restart).
 */
export async function startWorker(runtime: Runtime, options: WorkerOptions): Promise<RunningWorker> {
  const { config, log, queue, services } = runtime;
  const handlers = createJobHandlers(services);
  // Every job is reported by the worker registry while it runs (the `workers` query shows it).
  const tracked = Object.fromEntries(
    Object.entries(handlers).map(([name, handle]) => [name, (payload: never, ctx: { jobId: string }) => services.workers.track(name, ctx.jobId, () => handle(payload, ctx as never))]),
  ) as unknown as JobHandlers;
  const consumer = queue.consume(tracked, options);
  await services.workers.register(options.queues, options.concurrency, services.devices);
  log.info({ queues: options.queues, concurrency: options.concurrency, queue: queue.kind, workerId: runtime.workerId }, 'worker started');

  let stopped = false;
  let pass: Promise<unknown> = services.reconciler
    .reconcile(queue.kind === 'in-process' ? { queuedGraceMs: 0 } : {})
    .catch((err) => log.error({ err }, 'reconcile failed'));
  const timer = setInterval(() => {
    pass = pass.then(() => (stopped ? undefined : services.reconciler.reconcile().catch((err) => log.error({ err }, 'reconcile failed'))));
  }, config.reconcileIntervalMs);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        stopped = true;
        clearInterval(timer);
        await pass;
        await consumer.close(config.shutdownGraceMs);
        await services.workers.unregister();
        log.info('worker stopped');
      })()),
  };
}

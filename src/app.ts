import type { Config } from './config/index.js';
import type { Logger } from './logger.js';
import { createRuntime, type Runtime } from './runtime.js';
import { startApiServer, type ApiServer, type ApiServerOptions } from './server/server.js';
import { startWorker, type RunningWorker, type WorkerOptions } from './workers/worker.js';

export interface AppOptions {
  /** Serve GraphQL over HTTP and WebSocket. */
  readonly api: boolean;
  /** Consume these queues in this process. */
  readonly worker: WorkerOptions | undefined;
  /** Only benchmarks change these (to measure what authentication and limits cost). */
  readonly server?: ApiServerOptions;
}

export interface App {
  readonly runtime: Runtime;
  readonly api: ApiServer | undefined;
  readonly worker: RunningWorker | undefined;
  /** Graceful: stop accepting, drain requests and jobs (handing back what outlives the grace), close connections. */
  close(): Promise<void>;
}

export async function startApp(config: Config, log: Logger, options: AppOptions): Promise<App> {
  const runtime = await createRuntime(config, log, { migrate: true });
  let api: ApiServer | undefined;
  let worker: RunningWorker | undefined;
  try {
    if (options.worker) worker = await startWorker(runtime, options.worker);
    if (options.api) api = await startApiServer(runtime, options.server);
  } catch (error) {
    await worker?.close();
    await runtime.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    runtime,
    api,
    worker,
    close: () =>
      (closing ??= (async () => {
        await Promise.all([api?.close(), worker?.close()]);
        await runtime.close();
      })()),
  };
}

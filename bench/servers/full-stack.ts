import { pino } from 'pino';
import { serveChild } from './protocol.js';

// Code from the compiled dist/ (what `npm start` runs), types from src/: dist/ ships no
// declarations, and this way the bench type-checks before the first build.
const dist = new URL('../../dist/', import.meta.url);
const load = <T>(module: string) => import(new URL(module, dist).href) as Promise<T>;
const { loadConfig, modeOf } = await load<typeof import('../../src/config/index.js')>('config/index.js');
const { createLogger } = await load<typeof import('../../src/logger.js')>('logger.js');
const { startApp } = await load<typeof import('../../src/app.js')>('app.js');

const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('BENCH_DATA_DIR must name a fresh directory for the embedded database.');

/**
 * The real platform, API and worker in one process, as `arena start` runs it. BENCH_WORKER_QUEUES
 * (ping) and BENCH_WORKER_CONCURRENCY (4) pick what its worker consumes.
 */
const queues = (process.env.BENCH_WORKER_QUEUES ?? 'ping').split(',') as ('ping' | 'inference')[];
const concurrency = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 4);
await serveChild(async () => {
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    ARENA_DATA_DIR: dataDir,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  });
  // The same asynchronous SonicBoom the platform writes to stdout with, aimed at /dev/null: every
  // log line is still serialised and written, only nobody reads it. pino accepts it as a stream.
  const sink = pino.destination({ dest: '/dev/null', sync: false }) as unknown as NodeJS.WritableStream;
  const log = createLogger(config, sink);
  const app = await startApp(config, log, { api: true, worker: { queues, concurrency } });
  if (!app.api) throw new Error('startApp returned no API server.');
  const { db, queue } = app.runtime;
  return {
    url: `${app.api.url}/graphql`,
    info: `${modeOf(config)} (database ${db.kind}, queue ${queue.kind})${queues.includes('inference') ? `, ${concurrency} inference worker(s)` : ''}, LOG_LEVEL=${config.logLevel}, NODE_ENV=${config.nodeEnv}`,
    close: () => app.close(),
  };
});

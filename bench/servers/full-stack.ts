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
 *
 * BENCH_AUTH: `on` (default) signs in an admin and hands the parent its authorization header, so
 * load runs as a signed-in client; the rate limits stay on but are set far above any load here.
 * `off` serves without authentication, rate limits or query limits: the baseline that measures
 * what they cost.
 */
const queues = (process.env.BENCH_WORKER_QUEUES ?? 'ping').split(',') as ('ping' | 'inference' | 'training' | 'battle')[];
const concurrency = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 4);
const auth = process.env.BENCH_AUTH ?? 'on';
if (auth !== 'on' && auth !== 'off') throw new Error(`BENCH_AUTH must be on or off, not ${auth}.`);
const UNLIMITED = String(1_000_000_000);
await serveChild(async () => {
  const config = loadConfig({
    ARENA_RATE_LIMIT_USER_PER_MINUTE: UNLIMITED,
    ARENA_RATE_LIMIT_IP_PER_MINUTE: UNLIMITED,
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
  const unguarded = {
    http: async (req: { socket: { remoteAddress?: string } }) => ({ principal: null, ip: req.socket.remoteAddress ?? null }),
    connect: async (_params: unknown, req: { socket: { remoteAddress?: string } }) => ({ principal: null, ip: req.socket.remoteAddress ?? null }),
    operation: async () => {},
  };
  const app = await startApp(config, log, {
    api: true,
    worker: { queues, concurrency },
    ...(auth === 'off' ? { server: { guard: unguarded, limits: false } } : {}),
  });
  if (!app.api) throw new Error('startApp returned no API server.');
  const { db, queue, services } = app.runtime;
  let headers: Record<string, string> | undefined;
  if (auth === 'on') {
    // Unique per process: in scaled mode every bench server shares one database.
    const email = `bench-${process.pid}-${Date.now().toString(36)}@bench.invalid`;
    await services.users.insert(db.fork(), { email, password: `bench ${Math.random()} password`, role: 'admin' });
    const { User } = await load<typeof import('../../src/entities/index.js')>('entities/index.js');
    const session = await services.auth.openSession(db.fork(), await db.fork().findOneOrFail(User, { email }));
    headers = { authorization: `Bearer ${session.accessToken}` };
  }
  return {
    url: `${app.api.url}/graphql`,
    info: `${modeOf(config)} (database ${db.kind}, queue ${queue.kind})${queues.includes('inference') ? `, ${concurrency} inference worker(s)` : ''}, ${
      auth === 'on' ? 'signed in' : 'no auth, rate or query limits'
    }, LOG_LEVEL=${config.logLevel}, NODE_ENV=${config.nodeEnv}`,
    ...(headers ? { headers } : {}),
    close: () => app.close(),
  };
});

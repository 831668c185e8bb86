import { pino } from 'pino';
import type { FanoutReply, FanoutRequest } from '../lib/fanout-protocol.js';

// Code from the compiled dist/ (what `npm start` runs), types from src/, as in full-stack.ts.
const dist = new URL('../../dist/', import.meta.url);
const load = <T>(module: string) => import(new URL(module, dist).href) as Promise<T>;
const { loadConfig, modeOf } = await load<typeof import('../../src/config/index.js')>('config/index.js');
const { createLogger } = await load<typeof import('../../src/logger.js')>('logger.js');
const { startApp } = await load<typeof import('../../src/app.js')>('app.js');
const { User } = await load<typeof import('../../src/entities/index.js')>('entities/index.js');

const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('BENCH_DATA_DIR must name a fresh directory for the embedded database.');
const send = process.send?.bind(process);
if (!send) throw new Error('This server is started by bench/battle-fanout.ts, which talks to it over IPC.');
const reply = (message: FanoutReply) => send(message);

/**
 * The full stack (API and worker in one process, as `arena start` runs it, a signed-in admin)
 * for battle-fanout, with two things full-stack.ts has no message for: publishing probe rounds on
 * a battle's rounds topic through the platform's event bus, exactly as the battle worker publishes
 * a stored batch (battle.service.ts: `battle.<id>.rounds`, `{ battleId, rounds }`), and this
 * process's memory, sampled every 100 ms so a peak between two questions is not missed.
 * BENCH_WORKER_QUEUES: training (rounds are published by hand) or training,battle (a real battle).
 */
const queues = (process.env.BENCH_WORKER_QUEUES ?? 'training').split(',') as ('training' | 'battle')[];
const UNLIMITED = String(1_000_000_000);
const config = loadConfig({
  ARENA_RATE_LIMIT_USER_PER_MINUTE: UNLIMITED,
  ARENA_RATE_LIMIT_IP_PER_MINUTE: UNLIMITED,
  ...process.env,
  PORT: '0',
  HOST: '127.0.0.1',
  ARENA_DATA_DIR: dataDir,
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
});
const sink = pino.destination({ dest: '/dev/null', sync: false }) as unknown as NodeJS.WritableStream;
// BENCH_API=off: a worker process only (scaled mode), as `arena worker` runs it.
const withApi = process.env.BENCH_API !== 'off';
const app = await startApp(config, createLogger(config, sink), { api: withApi, worker: { queues, concurrency: 1 } });
if (withApi && !app.api) throw new Error('startApp returned no API server.');
const { db, queue, services, events } = app.runtime;
let token = '';
if (withApi) {
  const email = `fanout-${process.pid}-${Date.now().toString(36)}@bench.invalid`;
  await services.users.insert(db.fork(), { email, password: `bench ${Math.random()} password`, role: 'admin' });
  token = (await services.auth.openSession(db.fork(), await db.fork().findOneOrFail(User, { email }))).accessToken;
}

let peak = { rss: 0, heapUsed: 0 };
const sample = () => {
  const m = process.memoryUsage();
  peak = { rss: Math.max(peak.rss, m.rss), heapUsed: Math.max(peak.heapUsed, m.heapUsed) };
  return m;
};
setInterval(sample, 100).unref();

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
const now = () => performance.timeOrigin + performance.now();

/** `count` one-round batches at `perSecond`, each round's variant carrying the time it was published. */
async function publish(battleId: string, perSecond: number, count: number, firstIndex: number): Promise<number> {
  const started = performance.now();
  let late = 0;
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else late = Math.max(late, -wait);
    const index = firstIndex + i;
    const round = { battleId, index, seedIndex: 0, split: 'test', original: 'win free money now', variant: `w1n fr3e m0ney n0w sent=${now().toFixed(3)}`, strategy: 'leetspeak', score: 0.25, detected: false, queries: 1, latencyMs: 0.1 };
    await events.publish(`battle.${battleId}.rounds`, { battleId, rounds: [round] });
  }
  return late;
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.once('disconnect', stop);
process.on('message', (message: FanoutRequest) => {
  switch (message.type) {
    case 'stop':
      return stop();
    case 'cpu': {
      const usage = process.cpuUsage();
      return reply({ type: 'cpu', micros: usage.user + usage.system });
    }
    case 'memory': {
      const m = sample();
      reply({ type: 'memory', rss: m.rss, heapUsed: m.heapUsed, peakRss: peak.rss, peakHeapUsed: peak.heapUsed });
      peak = { rss: m.rss, heapUsed: m.heapUsed };
      return;
    }
    case 'publish':
      return void publish(message.battleId, message.perSecond, message.count, message.firstIndex).then((lateMs) => reply({ type: 'published', count: message.count, lateMs }));
  }
});
reply({
  type: 'ready',
  url: app.api ? `${app.api.url}/graphql` : '',
  info: `${withApi ? '' : 'worker only, '}${modeOf(config)} (database ${db.kind}, queue ${queue.kind}, events ${events.kind})${withApi ? ', signed in' : ''}, worker queues ${queues.join(',')}, LOG_LEVEL=${config.logLevel}`,
  headers: withApi ? { authorization: `Bearer ${token}` } : {},
});

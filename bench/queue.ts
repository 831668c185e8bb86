import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Benchmark, Sample, TargetFigures } from './lib/report.js';
import { median, percentile } from './lib/stats.js';

// Code from the compiled dist/, as the platform runs it; types from src/.
const dist = new URL('../dist/', import.meta.url);
const { BullMqJobQueue } = (await import(new URL('queue/bullmq.queue.js', dist).href)) as typeof import('../src/queue/bullmq.queue.js');

/** Jobs per measurement, and how many run at once (as in STACK.md's BullMQ figure). */
const JOBS = 5_000;
const CONCURRENCY = 50;
/** Adds in flight at once (each is one Redis round trip, pipelined by ioredis). */
const ADD_WINDOW = 200;
const TIMEOUT_MS = 120_000;

/**
 * Tiny jobs through the platform's queue (BullMqJobQueue: a job per `enqueue` with its id, attempts
 * and backoff, the worker's handler wrapper) against BullMQ's own Queue and Worker doing the same
 * no-op jobs on the same Redis, in the same run. Both add jobs one by one, a window at a time;
 * BullMQ's `addBulk` is shown too, as the fastest way in.
 */
export const queueOverhead: Benchmark = {
  id: 'queue-overhead',
  plannedSeconds: (o) => o.rounds * 3 * (TIMEOUT_MS / 1000 / 4),
  async run(options, progress) {
    const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    try {
      await probe.connect();
      await probe.ping();
    } catch (error) {
      probe.disconnect();
      throw new Error(`queue-overhead needs Redis (REDIS_URL or 127.0.0.1:6379): ${(error as Error).message}`);
    }
    const prefix = `arena-bench-${process.pid}-${Date.now().toString(36)}`;
    const samples: Record<'platform' | 'bullmq' | 'bullmq addBulk', Sample[]> = { platform: [], bullmq: [], 'bullmq addBulk': [] };
    try {
      for (let round = 1; round <= options.rounds; round++) {
        const order = round % 2 === 1 ? (['bullmq', 'platform', 'bullmq addBulk'] as const) : (['platform', 'bullmq addBulk', 'bullmq'] as const);
        for (const target of order) {
          const cpu = process.cpuUsage();
          const m =
            target === 'platform' ? await platform(url, `${prefix}-p${round}`) : await rawBullmq(url, `${prefix}-${target === 'bullmq' ? 'r' : 'b'}${round}`, target === 'bullmq addBulk');
          const used = process.cpuUsage(cpu);
          const micros = used.user + used.system;
          samples[target].push({ round, rps: JOBS / m.seconds, p50Ms: m.p50Ms, p99Ms: m.p99Ms, cpuPercent: (100 * micros) / (m.seconds * 1e6), cpuMicrosPerRequest: micros / JOBS });
          progress(`round ${round}/${options.rounds} ${target}: ${Math.round(JOBS / m.seconds)} jobs/s, add→run p50 ${m.p50Ms.toFixed(1)} ms`);
        }
      }
    } finally {
      const keys = await probe.keys(`${prefix}*`);
      for (let i = 0; i < keys.length; i += 500) await probe.del(...keys.slice(i, i + 500));
      probe.disconnect();
    }
    const figures = (target: keyof typeof samples, info: string): TargetFigures => ({
      target,
      info,
      rps: median(samples[target].map((s) => s.rps)),
      p50Ms: median(samples[target].map((s) => s.p50Ms)),
      p99Ms: median(samples[target].map((s) => s.p99Ms)),
      cpuPercent: median(samples[target].map((s) => s.cpuPercent)),
      cpuMicrosPerRequest: median(samples[target].map((s) => s.cpuMicrosPerRequest)),
      samples: samples[target],
    });
    const targets = [
      figures('platform', `BullMqJobQueue.enqueue × ${JOBS} (${ADD_WINDOW} in flight) + consume, concurrency ${CONCURRENCY}, no-op handler`),
      figures('bullmq', `Queue.add × ${JOBS} (${ADD_WINDOW} in flight) + Worker, concurrency ${CONCURRENCY}, no-op processor`),
      figures('bullmq addBulk', `Queue.addBulk of ${JOBS} + Worker, concurrency ${CONCURRENCY}`),
    ];
    const rps = (name: string) => targets.find((t) => t.target === name)!.rps;
    return {
      id: queueOverhead.id,
      title: `Queue overhead: ${JOBS} no-op jobs end to end (first add to last done), platform queue vs BullMQ on the same Redis (req/s = jobs/s; p50/p99 = add to run; CPU = this process, producer and worker both)`,
      targets,
      ratios: [
        { label: 'platform / bullmq (same one-by-one adds)', value: rps('platform') / rps('bullmq'), target: 0.8 },
        { label: 'platform / bullmq addBulk', value: rps('platform') / rps('bullmq addBulk'), target: 0.8 },
      ],
    };
  },
};

/** Adds `JOBS` with at most ADD_WINDOW in flight. */
async function addAll(add: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: ADD_WINDOW }, async () => {
      while (next < JOBS) await add(next++);
    }),
  );
}

interface Measured {
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Counts jobs run and their latency from add to handler. */
function countTo(n: number): { added: (id: string) => void; tick: (id: string) => void; done: Promise<void>; latencies: () => number[] } {
  let count = 0;
  const addedAt = new Map<string, number>();
  const latencies: number[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const timer = setTimeout(() => resolve(), TIMEOUT_MS);
  return {
    added: (id) => addedAt.set(id, performance.now()),
    latencies: () => latencies.sort((a, b) => a - b),
    tick: (id) => {
      const at = addedAt.get(id);
      if (at !== undefined) latencies.push(performance.now() - at);
      if (++count === n) {
        clearTimeout(timer);
        resolve();
      }
    },
    done: done.then(() => {
      if (count < n) throw new Error(`only ${count} of ${n} jobs ran within ${TIMEOUT_MS} ms`);
    }),
  };
}

async function rawBullmq(url: string, prefix: string, bulk: boolean): Promise<Measured> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('bench', { connection, prefix });
  const counter = countTo(JOBS);
  const worker = new Worker(
    'bench',
    async (job) => {
      counter.tick(job.id!);
    },
    { connection: new Redis(url, { maxRetriesPerRequest: null }), prefix, concurrency: CONCURRENCY },
  );
  await worker.waitUntilReady();
  const started = performance.now();
  const opts = { removeOnComplete: true, attempts: 3 };
  if (bulk) {
    for (let i = 0; i < JOBS; i++) counter.added(`j${i}`);
    await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'bench', data: { id: String(i) }, opts: { ...opts, jobId: `j${i}` } })));
  } else {
    await addAll((i) => (counter.added(`j${i}`), queue.add('bench', { id: String(i) }, { ...opts, jobId: `j${i}` })));
  }
  await counter.done;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.close();
  connection.disconnect();
  return measured(seconds, counter.latencies());
}

async function platform(url: string, prefix: string): Promise<Measured> {
  const connection = new Redis(url, { maxRetriesPerRequest: 1 });
  const workerConnection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new BullMqJobQueue({ connection, workerConnection, prefix, maxAttempts: 3, backoffMs: 1000, log: pino({ level: 'silent' }) });
  const counter = countTo(JOBS);
  const noop = async (_payload: unknown, ctx: { jobId: string }) => {
    counter.tick(ctx.jobId);
  };
  const consumer = queue.consume({ ping: noop, inference: noop, training: noop, battle: noop }, { queues: ['ping'], concurrency: CONCURRENCY });
  // Let the worker connect before the clock starts, as the raw Worker's waitUntilReady does.
  await new Promise((r) => setTimeout(r, 300));
  const started = performance.now();
  await addAll((i) => (counter.added(`j${i}`), queue.enqueue('ping', { pingJobId: `j${i}` }, `j${i}`)));
  await counter.done;
  const seconds = (performance.now() - started) / 1000;
  await consumer.close(5_000);
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  return measured(seconds, counter.latencies());
}

const measured = (seconds: number, latencies: number[]): Measured => ({ seconds, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) });

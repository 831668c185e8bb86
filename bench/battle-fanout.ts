import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { print } from 'graphql';
import {
  BattleRoundCompletedDocument,
  BattleUpdatedDocument,
  CancelBattleDocument,
  CreateBattleDocument,
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  StartTrainingRunDocument,
  TrainingRunUpdatedDocument,
  type ArenaClient,
  type BattleFieldsFragment,
} from '../src/sdk/index.js';
import type { FanoutReply, FanoutRequest, SubscriberReply, SubscriberRequest, SubscriberStats } from './lib/fanout-protocol.js';
import { forkIpc, type IpcProcess } from './lib/ipc-process.js';
import type { Benchmark, Ratio, Sample, TargetFigures } from './lib/report.js';
import { median } from './lib/stats.js';
import { tempDir } from './lib/temp-dir.js';
import { clientFor } from './inference/client.js';
import { spamHamCsv } from '../tests/fixtures/spam-ham.js';

/** BENCH_FANOUT_SUBSCRIBERS (1000), BENCH_FANOUT_SECONDS (20): the issue's figures. */
const SUBSCRIBERS = Number(process.env['BENCH_FANOUT_SUBSCRIBERS'] ?? 1000);
const SECONDS = Number(process.env['BENCH_FANOUT_SECONDS'] ?? 20);
const PER_SECOND = 10;
const P99_TARGET_MS = 100;
/** The full-speed battle: short texts, blind strategies (as battle-throughput's). */
const FAST_ROUNDS = Number(process.env['BENCH_FANOUT_ROUNDS'] ?? 40_000);
/** Of the subscribers to the fast battle, this share stop reading for STALL_MS once it starts. */
const PAUSED_SHARE = 0.1;
const STALL_MS = 6_000;
const STRATEGIES = ['homoglyphs', 'leetspeak', 'invisible', 'char-swap', 'spacing'];
const SHORT = Array.from({ length: 200 }, (_, i) => `${['win free money now', 'claim your cash prize today', 'cheap pills online, no prescription', 'you won the lottery, click here'][i % 4]} (offer ${i})`);
/**
 * The fast battle's subscribers ask for four fields a round: 1,000 clients of the SDK's whole
 * round (~250 bytes) at ~14,000 rounds/s would be 3.5 GB/s to parse on the two cores the server
 * uses too. The latency part uses the SDK's own BattleRoundCompleted document.
 */
const LEAN_QUERY = 'subscription FanoutRounds($battleId: ID!) { battleRoundCompleted(battleId: $battleId) { battleId rounds { index strategy score detected } } }';
const START_TIMEOUT_MS = 90_000;
/** Model names of this run: with DATABASE_URL both parts (and earlier runs) share one database. */
const MODEL = `fanout-${process.pid}-${Date.now().toString(36)}`;

type Server = IpcProcess<FanoutRequest, FanoutReply>;
type Subscribers = IpcProcess<SubscriberRequest, SubscriberReply>;

/**
 * battle-fanout (issue 6): what 1,000 graphql-ws subscribers of one battle cost, the full stack
 * (API and worker in one process, signed in; embedded, or PostgreSQL + Redis with DATABASE_URL /
 * REDIS_URL) with the clients in a second process.
 *
 * 1. Latency: probe rounds published on the battle's rounds topic through the platform's event
 *    bus at 10 batches/s, the way the battle worker publishes a stored batch, each carrying the
 *    time it was sent; publish → receive per subscriber message, with 1,000 subscribers against
 *    the same with 1 (baseline). Target p99 <= 100 ms with 1,000.
 * 2. Never slowed: a real battle at full speed with 0 subscribers, then with 1,000 (a tenth of
 *    them stalled for 6 s): rounds/s ratio (target >= 0.9), server memory before / at its
 *    peak / after, and the batch sizes slow readers got (coalesced, not one message per batch).
 */
export const battleFanout: Benchmark = {
  id: 'battle-fanout',
  plannedSeconds: (o) => 120 + 2 * (SECONDS + 30) + o.rounds * 120,
  async run(options, progress) {
    const targets: TargetFigures[] = [];
    const ratios: Ratio[] = [];

    // Part 1: no battle worker, so the battle stays queued and only the probes are published.
    const latency = await withServer('training', progress, async (server, client, url, token) => {
      await trainChampion(client, `${MODEL}-latency`);
      const { createBattle } = await client.request(CreateBattleDocument, { input: { model: `${MODEL}-latency`, rounds: 1000, seedTexts: SHORT.slice(0, 4), autoRetrain: false, seed: 1 } });
      const battleId = createBattle.battle.id;
      let next = 0;
      const results: { n: number; stats: SubscriberStats; cpu: number; lateMs: number }[] = [];
      for (const n of [1, SUBSCRIBERS]) {
        const subs = startSubscribers();
        try {
          await subs.ask({ type: 'open', url: url.replace(/^http/, 'ws'), token, battleId, count: n, paused: 0, query: print(BattleRoundCompletedDocument), measure: 'latency' }, 'opened', 120_000);
          // Subscriptions have no acknowledgement: publish until every subscriber has heard one.
          for (let i = 0; i < 30; i++) {
            await server.ask({ type: 'publish', battleId, perSecond: PER_SECOND, count: PER_SECOND, firstIndex: next }, 'published', 30_000);
            next += PER_SECOND;
            if ((await stats(subs)).minRounds > 0) break;
          }
          await subs.ask({ type: 'reset' }, 'reset', 10_000);
          const count = SECONDS * PER_SECOND;
          const cpuBefore = await cpu(server);
          const { lateMs } = await server.ask({ type: 'publish', battleId, perSecond: PER_SECOND, count, firstIndex: next }, 'published', (SECONDS + 60) * 1000);
          next += count;
          let s = await stats(subs);
          for (let i = 0; i < 50 && s.minRounds < count; i++) {
            await sleep(100);
            s = await stats(subs);
          }
          const used = (await cpu(server)) - cpuBefore;
          results.push({ n, stats: s, cpu: used, lateMs });
          progress(
            `${n} subscriber(s): p50 ${s.latency.p50.toFixed(2)} ms, p95 ${s.latency.p95.toFixed(2)}, p99 ${s.latency.p99.toFixed(2)}, max ${s.latency.max.toFixed(1)}; ` +
              `${s.latency.n}/${n * count} rounds received (fewest per subscriber ${s.minRounds}), failures ${s.failures}${s.firstFailure ? ` (${s.firstFailure})` : ''}; ` +
              `server CPU ${((100 * used) / (SECONDS * 1e6)).toFixed(0)}%, publisher late by up to ${lateMs.toFixed(1)} ms`,
          );
          if (s.failures > 0 || s.minRounds < count) throw new Error(`${n} subscribers: ${s.failures} failed, the fewest got ${s.minRounds}/${count} rounds: ${s.firstFailure}`);
        } finally {
          await subs.ask({ type: 'close' }, 'closed', 30_000).catch(() => undefined);
          await subs.stop({ type: 'close' });
        }
      }
      return results;
    });
    const one = latency.find((r) => r.n === 1)!;
    const many = latency.find((r) => r.n === SUBSCRIBERS)!;
    const latencyRow = (r: (typeof latency)[number], target: string, info: string): TargetFigures => {
      const delivered = r.stats.latency.n;
      const sample: Sample = { round: 1, rps: delivered / SECONDS, p50Ms: r.stats.latency.p50, p99Ms: r.stats.latency.p99, cpuPercent: (100 * r.cpu) / (SECONDS * 1e6), cpuMicrosPerRequest: r.cpu / delivered };
      return { target, info, ...sample, samples: [sample] };
    };
    targets.push(
      latencyRow(one, 'fan-out, 1 subscriber', `baseline: ${PER_SECOND} batches/s for ${SECONDS} s, SDK BattleRoundCompleted document; p95 ${one.stats.latency.p95.toFixed(2)} ms, max ${one.stats.latency.max.toFixed(1)} ms (req/s = messages delivered/s)`),
      latencyRow(
        many,
        `fan-out, ${SUBSCRIBERS} subscribers`,
        `p95 ${many.stats.latency.p95.toFixed(2)} ms, max ${many.stats.latency.max.toFixed(1)} ms; p99 ${(many.stats.latency.p99 / one.stats.latency.p99).toFixed(1)}x the 1-subscriber p99; target p99 <= ${P99_TARGET_MS} ms: ${many.stats.latency.p99 <= P99_TARGET_MS ? 'met' : 'MISSED'}`,
      ),
    );
    ratios.push({ label: `${P99_TARGET_MS} ms / p99 with ${SUBSCRIBERS} subscribers (target)`, value: P99_TARGET_MS / many.stats.latency.p99, target: 1 });

    // Part 2: a real battle at full speed.
    // With PostgreSQL and Redis the battle runs where a deployment runs it, on an `arena worker`
    // process of its own: the subscribers' fan-out is the API process's work.
    const separate = Boolean(process.env['DATABASE_URL'] && process.env['REDIS_URL']);
    const speed = await withServer(separate ? 'training' : 'training,battle', progress, async (server, client, url, token, dataDir) => {
      await trainChampion(client, `${MODEL}-speed`);
      const worker = separate ? await startWorker(dataDir, 'battle', progress) : null;
      // Whose CPU a round costs: the battle worker's.
      const player = worker ?? server;
      try {
        const input = (seed: number, rounds = FAST_ROUNDS) => ({ model: `${MODEL}-speed`, rounds, seedTexts: SHORT, strategies: STRATEGIES, autoRetrain: false, seed });
        const alone: Sample[] = [];
        const watched: Sample[] = [];
        const memory: string[] = [];
        let slow: SubscriberStats | undefined;
        for (let round = 1; round <= options.rounds; round++) {
          // 0 subscribers.
          {
            const before = await mem(server);
            const cpuBefore = await cpu(player);
            const { createBattle } = await client.request(CreateBattleDocument, { input: input(round) });
            const end = await untilOver(client, createBattle.battle.id);
            alone.push(battleSample(round, end, (await cpu(player)) - cpuBefore));
            const after = await mem(server);
            progress(`round ${round}, 0 subscribers: ${Math.round(alone.at(-1)!.rps)} rounds/s; server ${describeMemory(before, after)}`);
          }
          // 1,000 subscribers, subscribed while a blocker battle holds the one battle worker.
          const subs = startSubscribers();
          try {
            const blocker = (await client.request(CreateBattleDocument, { input: input(1000 + round, 1_000_000) })).createBattle.battle.id;
            await untilStatus(client, blocker, 'RUNNING');
            const measured = (await client.request(CreateBattleDocument, { input: input(round) })).createBattle.battle;
            const paused = Math.round(SUBSCRIBERS * PAUSED_SHARE);
            await subs.ask({ type: 'open', url: url.replace(/^http/, 'ws'), token, battleId: measured.id, count: SUBSCRIBERS, paused, query: LEAN_QUERY, measure: 'count' }, 'opened', 120_000);
            await untilSubscriptions(url, token, SUBSCRIBERS);
            await client.request(CancelBattleDocument, { input: { id: blocker } });
            await untilStatus(client, blocker, 'CANCELLED');
            const before = await mem(server);
            const cpuBefore = await cpu(player);
            // The paused readers stall for STALL_MS, then read again, and must get everything. Not
            // longer: a socket that answers no ping for graphql-ws's keep-alive (12 s) is dropped.
            const resumed = sleep(STALL_MS).then(() => subs.ask({ type: 'resume' }, 'resumed', 10_000));
            const end = await untilOver(client, measured.id, FAST_ROUNDS);
            watched.push(battleSample(round, end, (await cpu(player)) - cpuBefore));
            const during = await mem(server);
            const deadline = Date.now() + 120_000;
            await resumed;
            let s = await stats(subs);
            while ((s.minRounds < FAST_ROUNDS || s.completed < SUBSCRIBERS) && Date.now() < deadline) s = await sleep(250).then(() => stats(subs));
            const delivered = await mem(server);
            await subs.ask({ type: 'close' }, 'closed', 30_000);
            await sleep(1000);
            const after = await mem(server);
            slow = s;
            const line = `server ${describeMemory(before, during)}; after delivery rss ${mb(delivered.rss)}, heap ${mb(delivered.heapUsed)}; subscribers closed: rss ${mb(after.rss)}, heap ${mb(after.heapUsed)}`;
            memory.push(line);
            progress(
              `round ${round}, ${SUBSCRIBERS} subscribers (${paused} paused): ${Math.round(watched.at(-1)!.rps)} rounds/s; ${line}; ` +
                `each got ${s.minRounds}–${s.maxRounds} of ${FAST_ROUNDS} rounds, ${s.completed} completed, ${s.failures} failures${s.firstFailure ? ` (${s.firstFailure})` : ''}; ` +
                `rounds per message: readers ${s.reading.min}/${s.reading.median}/${s.reading.max} (min/median/max, ${s.reading.messages} messages), paused ${s.paused.min}/${s.paused.median}/${s.paused.max} (${s.paused.messages} messages)`,
            );
            if (s.failures > 0 || s.minRounds < FAST_ROUNDS) throw new Error(`fast battle: ${s.failures} subscribers failed, the fewest got ${s.minRounds}/${FAST_ROUNDS} rounds: ${s.firstFailure}`);
          } finally {
            await subs.stop({ type: 'close' });
          }
        }
        return { alone, watched, memory, slow: slow!, separate };
      } finally {
        await worker?.stop({ type: 'stop' });
      }
    });
    const fig = (target: string, info: string, samples: Sample[]): TargetFigures => ({
      target,
      info,
      rps: median(samples.map((s) => s.rps)),
      p50Ms: Number.NaN,
      p99Ms: Number.NaN,
      cpuPercent: median(samples.map((s) => s.cpuPercent)),
      cpuMicrosPerRequest: median(samples.map((s) => s.cpuMicrosPerRequest)),
      samples,
    });
    const s = speed.slow;
    targets.push(
      fig('fast battle, 0 subscribers', `baseline${speed.separate ? ' (the battle on an arena worker process of its own; CPU is the worker’s)' : ''}: ${FAST_ROUNDS} rounds, ${SHORT.length} short seeds, strategies ${STRATEGIES.join(', ')} (req/s = rounds/s)`, speed.alone),
      fig(
        `fast battle, ${SUBSCRIBERS} subscribers`,
        `${Math.round(SUBSCRIBERS * PAUSED_SHARE)} stalled for ${STALL_MS / 1000} s; rounds per message: readers median ${s.reading.median} (max ${s.reading.max}), paused median ${s.paused.median} (max ${s.paused.max}, ${s.paused.messages} messages for ${s.paused.rounds} rounds); ${speed.memory.at(-1)}`,
        speed.watched,
      ),
    );
    ratios.push({ label: `rounds/s with ${SUBSCRIBERS} subscribers / with 0 (target)`, value: median(speed.watched.map((x) => x.rps)) / median(speed.alone.map((x) => x.rps)), target: 0.9 });
    return { id: battleFanout.id, title: `Battle fan-out: ${SUBSCRIBERS} graphql-ws subscribers of one battle (clients in their own process)`, targets, ratios };
  },
};

async function withServer<T>(
  queues: string,
  progress: (line: string) => void,
  body: (server: Server, client: ArenaClient, url: string, token: string, dataDir: string) => Promise<T>,
): Promise<T> {
  const dataDir = path.join(tempDir('arena-bench-fanout-'), 'data');
  mkdirSync(dataDir, { recursive: true });
  const server: Server = forkIpc('fan-out server', new URL('servers/fanout-stack.ts', import.meta.url), { ...process.env, BENCH_DATA_DIR: dataDir, BENCH_WORKER_QUEUES: queues });
  try {
    const ready = await server.expect('ready', START_TIMEOUT_MS);
    progress(ready.info);
    const client = clientFor(ready.url, ready.headers);
    try {
      return await body(server, client, ready.url, ready.headers['authorization']!.replace(/^Bearer /, ''), dataDir);
    } finally {
      await client.close();
    }
  } finally {
    await server.stop({ type: 'stop' });
  }
}

/** A worker-only process on the same database, Redis and data directory (the model files) as the API. */
async function startWorker(dataDir: string, queues: string, progress: (line: string) => void): Promise<Server> {
  const worker: Server = forkIpc('fan-out worker', new URL('servers/fanout-stack.ts', import.meta.url), { ...process.env, BENCH_DATA_DIR: dataDir, BENCH_WORKER_QUEUES: queues, BENCH_API: 'off' });
  progress((await worker.expect('ready', START_TIMEOUT_MS)).info);
  return worker;
}

const startSubscribers = (): Subscribers => forkIpc('subscribers', new URL('lib/ws-subscribers.ts', import.meta.url));
const stats = (subs: Subscribers) => subs.ask({ type: 'stats' }, 'stats', 30_000);
const cpu = async (server: Server) => (await server.ask({ type: 'cpu' }, 'cpu', 10_000)).micros;
const mem = (server: Server) => server.ask({ type: 'memory' }, 'memory', 10_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

function describeMemory(before: Extract<FanoutReply, { type: 'memory' }>, after: Extract<FanoutReply, { type: 'memory' }>): string {
  return `rss ${mb(before.rss)} before, peak ${mb(after.peakRss)}; heap ${mb(before.heapUsed)} before, peak ${mb(after.peakHeapUsed)}`;
}

function battleSample(round: number, end: BattleFieldsFragment, cpuMicros: number): Sample {
  const seconds = (Date.parse(end.finishedAt!) - Date.parse(end.startedAt!)) / 1000;
  return { round, rps: end.roundsDone / seconds, p50Ms: Number.NaN, p99Ms: Number.NaN, cpuPercent: (100 * cpuMicros) / (seconds * 1e6), cpuMicrosPerRequest: cpuMicros / end.roundsDone };
}

async function trainChampion(client: ArenaClient, model: string): Promise<void> {
  await client.request(CreateModelDocument, { input: { name: model, labels: ['ham', 'spam'] } });
  await client.request(CreateDatasetDocument, { input: { name: `${model}-data`, labels: ['ham', 'spam'] } });
  const { createDatasetVersion } = await client.request(CreateDatasetVersionDocument, { input: { dataset: `${model}-data`, file: new File([spamHamCsv(400)], 'fanout.csv') } });
  const { startTrainingRun } = await client.request(StartTrainingRunDocument, {
    input: { model, datasetVersionId: createDatasetVersion.version.id, hyperparameters: { epochs: 5, dim: 8, seed: 1 }, featurizerSpec: { buckets: 4096 } },
  });
  for await (const e of { [Symbol.asyncIterator]: () => client.subscribe(TrainingRunUpdatedDocument, { id: startTrainingRun.trainingRun.id }) }) {
    if (e.trainingRunUpdated.status === 'SUCCEEDED') return;
    if (['FAILED', 'CANCELLED'].includes(e.trainingRunUpdated.status)) throw new Error(`training failed: ${e.trainingRunUpdated.error}`);
  }
  throw new Error('training run updates ended before it finished');
}

async function untilStatus(client: ArenaClient, id: string, status: string): Promise<BattleFieldsFragment> {
  for await (const e of { [Symbol.asyncIterator]: () => client.subscribe(BattleUpdatedDocument, { battleId: id }) }) {
    if (e.battleUpdated.status === status) return e.battleUpdated;
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(e.battleUpdated.status)) throw new Error(`battle ${id} ${e.battleUpdated.status} (waiting for ${status}): ${e.battleUpdated.error}`);
  }
  throw new Error(`battle ${id}: updates ended before ${status}`);
}

async function untilOver(client: ArenaClient, id: string, rounds?: number): Promise<BattleFieldsFragment> {
  const end = await untilStatus(client, id, 'SUCCEEDED');
  if (rounds !== undefined && end.roundsDone !== rounds) throw new Error(`battle ${id} played ${end.roundsDone}/${rounds} rounds`);
  return end;
}

/** Until the server counts `n` live subscriptions (its /metrics gauge), so none misses the start. */
async function untilSubscriptions(graphqlUrl: string, token: string, n: number): Promise<void> {
  const metricsUrl = new URL('/metrics', graphqlUrl).toString();
  for (let i = 0; i < 600; i++) {
    const text = await (await fetch(metricsUrl, { headers: { authorization: `Bearer ${token}` } })).text();
    const live = Number(/^arena_graphql_subscriptions_active (\S+)$/m.exec(text)?.[1] ?? 0);
    if (live >= n) return;
    await sleep(100);
  }
  throw new Error(`fewer than ${n} subscriptions after 60 s`);
}

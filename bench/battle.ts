import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { BattleEngine, validateBattleConfig, type BattleConfig, type SeedText } from '../src/domain/index.js';
import {
  BattleUpdatedDocument,
  CreateBattleDocument,
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  StartTrainingRunDocument,
  TrainingRunUpdatedDocument,
  type BattleFieldsFragment,
} from '../src/sdk/index.js';
import { startServer } from './lib/child.js';
import type { Benchmark, Sample, TargetFigures } from './lib/report.js';
import { median } from './lib/stats.js';
import { tempDir } from './lib/temp-dir.js';
import { clientFor } from './inference/client.js';
import { loadCorpus } from './training.js';

const SHORT_ROUNDS = 20_000;
const EMAIL_ROUNDS = 3_000;
const STRATEGIES = ['homoglyphs', 'leetspeak', 'invisible', 'char-swap', 'spacing'];
const TIMEOUT_MS = 240_000;

/**
 * battle-throughput: rounds per second of one battle worker (the full stack, `arena start`, one
 * battle at a time) with the built-in defender, on short seed texts (≤ 280 characters) and on
 * SpamAssassin e-mails, blind strategies (one defender query per round), rounds stored in
 * batches and published. Baseline in the same run: the attack engine alone in this process with
 * a defender that answers at once, so the ratio says what scoring, storing and publishing cost.
 */
export const battleThroughput: Benchmark = {
  id: 'battle-throughput',
  plannedSeconds: (o) => 120 + o.rounds * 90,
  async run(options, progress) {
    const corpus = loadCorpus();
    const emails = corpus.train.filter((e) => e.label === 'spam').slice(0, 1000).map((e) => e.text.slice(0, 100_000));
    const short = Array.from({ length: 200 }, (_, i) => `${['win free money now', 'claim your cash prize today', 'cheap pills online, no prescription', 'you won the lottery, click here'][i % 4]} (offer ${i})`);
    const dataDir = path.join(tempDir('arena-bench-battle-'), 'data');
    mkdirSync(dataDir, { recursive: true });
    const server = await startServer('full stack', new URL('servers/full-stack.ts', import.meta.url), { ...process.env, BENCH_DATA_DIR: dataDir, BENCH_WORKER_QUEUES: 'training,battle', BENCH_WORKER_CONCURRENCY: '1' }, 60_000);
    const client = clientFor(server.url, server.headers);
    try {
      const tag = `${process.pid}-${Date.now().toString(36)}`;
      const model = `battle-${tag}`;
      const jsonl = [...corpus.train.map((e) => ({ ...e, split: 'train' })), ...corpus.test.map((e) => ({ ...e, split: 'test' }))].map((e) => JSON.stringify({ ...e, text: e.text.slice(0, 100_000) })).join('\n');
      await client.request(CreateDatasetDocument, { input: { name: `sa-${tag}`, labels: ['ham', 'spam'] } });
      const { createDatasetVersion } = await client.request(CreateDatasetVersionDocument, { input: { dataset: `sa-${tag}`, file: new File([jsonl], 'sa.jsonl') } });
      await client.request(CreateModelDocument, { input: { name: model, labels: ['ham', 'spam'] } });
      const { startTrainingRun } = await client.request(StartTrainingRunDocument, { input: { model, datasetVersionId: createDatasetVersion.version.id } });
      for await (const e of { [Symbol.asyncIterator]: () => client.subscribe(TrainingRunUpdatedDocument, { id: startTrainingRun.trainingRun.id }) }) {
        if (e.trainingRunUpdated.status === 'SUCCEEDED') break;
        if (['FAILED', 'CANCELLED'].includes(e.trainingRunUpdated.status)) throw new Error(`training failed: ${e.trainingRunUpdated.error}`);
      }
      progress(`champion trained on SpamAssassin: ${server.info}`);

      const platform: Record<'short' | 'email', Sample[]> = { short: [], email: [] };
      const alone: Record<'short' | 'email', Sample[]> = { short: [], email: [] };
      for (let round = 1; round <= options.rounds; round++) {
        for (const kind of ['short', 'email'] as const) {
          const rounds = kind === 'short' ? SHORT_ROUNDS : EMAIL_ROUNDS;
          const input = { model, rounds, strategies: STRATEGIES, seed: round, autoRetrain: false, ...(kind === 'short' ? { seedTexts: short } : { seedDatasetVersionId: createDatasetVersion.version.id, seedLabel: 'spam', seedLimit: 1000 }) };
          const cpuBefore = await server.cpuMicros();
          const { createBattle } = await client.request(CreateBattleDocument, { input });
          const end = await untilOver(client, createBattle.battle.id);
          const cpu = (await server.cpuMicros()) - cpuBefore;
          const seconds = (Date.parse(end.finishedAt!) - Date.parse(end.startedAt!)) / 1000;
          platform[kind].push(sample(round, rounds, seconds, cpu, end.latency?.p50 ?? Number.NaN, end.latency?.p99 ?? Number.NaN));
          progress(`round ${round}/${options.rounds} ${kind}: ${Math.round(rounds / seconds)} rounds/s, evasion ${(100 * end.evasionRate).toFixed(1)}%`);
          const engine = engineAlone(kind === 'short' ? short.map((text) => ({ text, split: 'test' as const })) : emails.map((text) => ({ text, split: 'train' as const })), rounds, round);
          alone[kind].push(sample(round, rounds, await engine, Number.NaN, Number.NaN, Number.NaN));
        }
      }
      const fig = (target: string, info: string, samples: Sample[]): TargetFigures => ({
        target,
        info,
        rps: median(samples.map((s) => s.rps)),
        p50Ms: median(samples.map((s) => s.p50Ms)),
        p99Ms: median(samples.map((s) => s.p99Ms)),
        cpuPercent: median(samples.map((s) => s.cpuPercent)),
        cpuMicrosPerRequest: median(samples.map((s) => s.cpuMicrosPerRequest)),
        samples,
      });
      const targets = [
        fig('battle, short texts', `${SHORT_ROUNDS} rounds, ${short.length} seeds of ${Math.round(short.reduce((n, t) => n + t.length, 0) / short.length)} chars, strategies ${STRATEGIES.join(', ')}; p50/p99 = defender ms per round`, platform.short),
        fig('engine alone, short texts', 'the same attack in this process, a defender that answers at once', alone.short),
        fig('battle, e-mails', `${EMAIL_ROUNDS} rounds on ${emails.length} SpamAssassin spam e-mails`, platform.email),
        fig('engine alone, e-mails', 'the same attack in this process, a defender that answers at once', alone.email),
      ];
      const rps = (name: string) => targets.find((t) => t.target === name)!.rps;
      for (const kind of ['short texts', 'e-mails']) progress(`${kind}: the battle runs at ${((100 * rps(`battle, ${kind}`)) / rps(`engine alone, ${kind}`)).toFixed(0)}% of the engine alone (the rest: featurizing, scoring, storing, publishing)`);
      return {
        id: battleThroughput.id,
        title: 'Battle throughput: rounds/s of one battle worker with the built-in defender, blind strategies (req/s = rounds/s)',
        targets,
        ratios: [
          { label: 'short texts: rounds/s / 2,000 (target)', value: rps('battle, short texts') / 2000, target: 1 },
          { label: 'e-mails: rounds/s / 1,000 (target)', value: rps('battle, e-mails') / 1000, target: 1 },
        ],
      };
    } finally {
      await client.close();
      await server.stop();
    }
  },
};

function sample(round: number, rounds: number, seconds: number, cpuMicros: number, p50: number, p99: number): Sample {
  return { round, rps: rounds / seconds, p50Ms: p50, p99Ms: p99, cpuPercent: (100 * cpuMicros) / (seconds * 1e6), cpuMicrosPerRequest: cpuMicros / rounds };
}

/** Seconds the engine takes alone for the same rounds. */
async function engineAlone(seeds: SeedText[], rounds: number, seed: number): Promise<number> {
  const checked = validateBattleConfig({ rounds, strategies: STRATEGIES, seeds, seed, queryBudget: 0 });
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  const engine = new BattleEngine(checked.config as BattleConfig);
  const started = performance.now();
  let state = engine.initialState();
  const defend = async (texts: readonly string[]) => texts.map(() => ({ harmfulScore: 0.9, detected: true }));
  while (!engine.isDone(state)) state = (await engine.runBatch(state, defend)).state;
  return (performance.now() - started) / 1000;
}

async function untilOver(client: ReturnType<typeof clientFor>, id: string): Promise<BattleFieldsFragment> {
  const iterator = client.subscribe(BattleUpdatedDocument, { battleId: id });
  const timer = setTimeout(() => void iterator.return?.(), TIMEOUT_MS);
  try {
    for await (const e of { [Symbol.asyncIterator]: () => iterator }) {
      const b = e.battleUpdated;
      if (b.status === 'SUCCEEDED') return b;
      if (b.status === 'FAILED' || b.status === 'CANCELLED') throw new Error(`battle ${id} ${b.status}: ${b.error}`);
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
  throw new Error(`battle ${id} did not finish within ${TIMEOUT_MS} ms`);
}

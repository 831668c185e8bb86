import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  BattleUpdatedDocument,
  CreateBattleDocument,
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  RematchDocument,
  StartTrainingRunDocument,
  TrainingRunUpdatedDocument,
  type ArenaClient,
  type BattleFieldsFragment,
  type TrainingRunFieldsFragment,
} from '../src/sdk/index.js';
import { startServer } from './lib/child.js';
import type { Benchmark, Sample, TargetFigures } from './lib/report.js';
import { median } from './lib/stats.js';
import { tempDir } from './lib/temp-dir.js';
import { clientFor } from './inference/client.js';
import { loadCorpus } from './training.js';

const ROUNDS = Number(process.env['BENCH_LOOP_ROUNDS'] ?? 2000);
const TIMEOUT_MS = 300_000;
const over = (status: string) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status);

interface Loop {
  readonly first: BattleFieldsFragment;
  readonly rematch: BattleFieldsFragment;
  readonly championF1: number;
  readonly challengerF1: number;
  readonly promoted: boolean;
  readonly seconds: number;
  /** Server CPU µs during each battle. */
  readonly cpu: { readonly first: number; readonly rematch: number };
}

/**
 * battle-loop: the quality target of the loop on SpamAssassin, as `npm run demo` plays it through
 * the full stack (`arena start`'s process, in a child): train a champion on the platform's own
 * split, battle it (adaptive strategies over all the blind ones, every spam e-mail of both splits as a seed,
 * the default threshold), let the battle retrain it, then rematch with a fresh seed. The first
 * battle is the baseline: on test-split seeds (texts the retrain never saw) the rematch's evasion
 * rate must be at most half of it, while clean test macro-F1 (the evaluation both versions get on
 * the same held-out set) drops by no more than 0.01. BENCH_LOOP_ROUNDS (2000) per battle; one
 * loop per BENCH_ROUNDS, each with its own model and battle seed.
 */
export const battleLoop: Benchmark = {
  id: 'battle-loop',
  plannedSeconds: (o) => 60 + o.rounds * 180,
  async run(options, progress) {
    const corpus = loadCorpus();
    const dataDir = path.join(tempDir('arena-bench-loop-'), 'data');
    mkdirSync(dataDir, { recursive: true });
    const server = await startServer('full stack', new URL('servers/full-stack.ts', import.meta.url), { ...process.env, BENCH_DATA_DIR: dataDir, BENCH_WORKER_QUEUES: 'training,battle', BENCH_WORKER_CONCURRENCY: '1' }, 60_000);
    const client = clientFor(server.url, server.headers);
    try {
      const tag = `${process.pid}-${Date.now().toString(36)}`;
      // Without a split column: the platform assigns train / test by its hash, as the import does.
      const jsonl = [...corpus.train, ...corpus.test].map((e) => JSON.stringify({ text: e.text.slice(0, 100_000), label: e.label })).join('\n');
      await client.request(CreateDatasetDocument, { input: { name: `sa-${tag}`, labels: ['ham', 'spam'] } });
      const { createDatasetVersion } = await client.request(CreateDatasetVersionDocument, { input: { dataset: `sa-${tag}`, file: new File([jsonl], 'sa.jsonl') } });
      const versionId = createDatasetVersion.version.id;
      progress(`SpamAssassin uploaded: ${createDatasetVersion.version.rowCount} e-mails; ${server.info}`);

      const loops: Loop[] = [];
      for (let round = 1; round <= options.rounds; round++) {
        const started = performance.now();
        const model = `loop-${tag}-${round}`;
        await client.request(CreateModelDocument, { input: { name: model, labels: ['ham', 'spam'] } });
        const { startTrainingRun } = await client.request(StartTrainingRunDocument, { input: { model, datasetVersionId: versionId } });
        const champion = await runEnd(client, startTrainingRun.trainingRun.id);
        const { createBattle } = await client.request(CreateBattleDocument, {
          input: { model, rounds: ROUNDS, seedDatasetVersionId: versionId, seedLabel: 'spam', seedLimit: 10_000, intensity: 1, seed: round },
        });
        let cpuBefore = await server.cpuMicros();
        const first = await battleEnd(client, createBattle.battle.id);
        const firstCpu = (await server.cpuMicros()) - cpuBefore;
        if (!first.retrainRunId) throw new Error(`battle ${first.id} did not retrain (evasion ${first.evasionRate}, threshold ${first.threshold}): ${first.retrainNotice}`);
        const retrain = await runEnd(client, first.retrainRunId);
        cpuBefore = await server.cpuMicros();
        const { rematch: next } = await client.request(RematchDocument, { input: { id: first.id } });
        const rematch = await battleEnd(client, next.battle.id);
        const rematchCpu = (await server.cpuMicros()) - cpuBefore;
        const loop: Loop = {
          first,
          rematch,
          championF1: f1(champion),
          challengerF1: f1(retrain),
          promoted: retrain.promoted,
          seconds: (performance.now() - started) / 1000,
          cpu: { first: firstCpu, rematch: rematchCpu },
        };
        loops.push(loop);
        progress(
          `loop ${round}: test-split evasion ${pct(first.testEvasionRate)} → ${pct(rematch.testEvasionRate)} (all seeds ${pct(first.evasionRate)} → ${pct(rematch.evasionRate)}); ` +
            `clean test F1 ${loop.championF1.toFixed(4)} → ${loop.challengerF1.toFixed(4)}, ${loop.promoted ? 'promoted' : 'NOT promoted'}; ${loop.seconds.toFixed(0)} s`,
        );
      }
      const row = (target: string, info: string, which: 'first' | 'rematch'): TargetFigures => {
        const samples: Sample[] = loops.map((l, i) => {
          const b = l[which];
          const seconds = (Date.parse(b.finishedAt!) - Date.parse(b.startedAt!)) / 1000;
          const cpu = l.cpu[which];
          return { round: i + 1, rps: b.roundsDone / seconds, p50Ms: b.latency?.p50 ?? Number.NaN, p99Ms: b.latency?.p99 ?? Number.NaN, cpuPercent: (100 * cpu) / (seconds * 1e6), cpuMicrosPerRequest: cpu / b.roundsDone };
        });
        const med = (f: (s: Sample) => number) => median(samples.map(f));
        return { target, info, rps: med((s) => s.rps), p50Ms: med((s) => s.p50Ms), p99Ms: med((s) => s.p99Ms), cpuPercent: med((s) => s.cpuPercent), cpuMicrosPerRequest: med((s) => s.cpuMicrosPerRequest), samples };
      };
      const m = (f: (l: Loop) => number) => median(loops.map(f));
      return {
        id: battleLoop.id,
        title: 'The loop on SpamAssassin: battle, auto-retrain, rematch (req/s = rounds/s; p50/p99 = defender ms per round)',
        targets: [
          row('battle 1 (baseline)', `${ROUNDS} rounds, adaptive; test-split evasion ${pct(m((l) => l.first.testEvasionRate ?? 0))}, all seeds ${pct(m((l) => l.first.evasionRate))}; champion clean test F1 ${m((l) => l.championF1).toFixed(4)}`, 'first'),
          row('rematch after one retrain', `fresh seed; test-split evasion ${pct(m((l) => l.rematch.testEvasionRate ?? 0))}, all seeds ${pct(m((l) => l.rematch.evasionRate))}; retrained clean test F1 ${m((l) => l.challengerF1).toFixed(4)}`, 'rematch'),
        ],
        ratios: [
          { label: 'test-split evasion: battle 1 / rematch (target: at least halved)', value: m((l) => (l.first.testEvasionRate ?? 0) / Math.max(l.rematch.testEvasionRate ?? 0, 1e-9)), target: 2 },
          { label: 'clean test F1: retrained / (champion − 0.01)', value: m((l) => l.challengerF1 / (l.championF1 - 0.01)), target: 1 },
        ],
      };
    } finally {
      await client.close();
      await server.stop();
    }
  },
};

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);

function f1(run: TrainingRunFieldsFragment): number {
  return (run.evaluation as { challenger: { macroF1: number } }).challenger.macroF1;
}

async function until<T>(iterator: AsyncIterableIterator<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const timer = setTimeout(() => void iterator.return?.(), TIMEOUT_MS);
  try {
    for await (const value of { [Symbol.asyncIterator]: () => iterator }) if (done(value)) return value;
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
  throw new Error(`${what} did not end within ${TIMEOUT_MS} ms`);
}

async function runEnd(client: ArenaClient, id: string): Promise<TrainingRunFieldsFragment> {
  const { trainingRunUpdated: run } = await until(client.subscribe(TrainingRunUpdatedDocument, { id }), (e) => over(e.trainingRunUpdated.status), `training run ${id}`);
  if (run.status !== 'SUCCEEDED') throw new Error(`training run ${id} ${run.status}: ${run.error}`);
  return run;
}

async function battleEnd(client: ArenaClient, id: string): Promise<BattleFieldsFragment> {
  const { battleUpdated: b } = await until(client.subscribe(BattleUpdatedDocument, { battleId: id }), (e) => over(e.battleUpdated.status), `battle ${id}`);
  if (b.status !== 'SUCCEEDED') throw new Error(`battle ${id} ${b.status}: ${b.error}`);
  return b;
}

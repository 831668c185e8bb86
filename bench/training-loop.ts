import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServer } from './lib/child.js';
import type { Benchmark, Sample, TargetFigures } from './lib/report.js';
import { median } from './lib/stats.js';
import { tempDir } from './lib/temp-dir.js';
import { clientFor } from './inference/client.js';
import { builtIn, loadCorpus } from './training.js';
import {
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  StartTrainingRunDocument,
  TrainingRunUpdatedDocument,
  type TrainingRunFieldsFragment,
} from '../src/sdk/index.js';

/** The platform's target: startTrainingRun to a promoted champion on SpamAssassin. */
const TARGET_S = 30;
const RUN_TIMEOUT_MS = 180_000;

/**
 * training-loop: what a user waits for. SpamAssassin uploaded as a dataset version (JSON Lines,
 * through the SDK's multipart upload: timed, but not part of the target), then per round a new
 * model and `startTrainingRun` with the defaults, timed until the run has SUCCEEDED and its result
 * is champion, on the full stack (`arena start`: API and worker in one process, embedded unless
 * DATABASE_URL / REDIS_URL say otherwise). Baseline in the same run: the domain trainer alone in
 * this process on the same data (featurize + SGD), so the ratio is what the platform adds (spawning
 * the runner, writing the data, inspecting, evaluating and registering the model).
 */
export const trainingLoop: Benchmark = {
  id: 'training-loop',
  plannedSeconds: (o) => 90 + o.rounds * (RUN_TIMEOUT_MS / 1000 / 3),
  async run(options, progress) {
    const corpus = loadCorpus();
    const dataDir = path.join(tempDir('arena-bench-loop-'), 'data');
    mkdirSync(dataDir, { recursive: true });
    const server = await startServer('full stack', new URL('servers/full-stack.ts', import.meta.url), { ...process.env, BENCH_DATA_DIR: dataDir, BENCH_WORKER_QUEUES: 'training', BENCH_WORKER_CONCURRENCY: '1' }, 60_000);
    const client = clientFor(server.url, server.headers);
    try {
      const tag = `${process.pid}-${Date.now().toString(36)}`;
      // As `arena datasets import spam-assassin` does: the few e-mails with attachments past the
      // upload's text limit (ARENA_DATASET_MAX_TEXT_LENGTH) are cut; the featurizer reads 4,000 characters anyway.
      const cut = (text: string) => text.slice(0, 100_000);
      const jsonl = [...corpus.train.map((e) => ({ ...e, split: 'train' })), ...corpus.test.map((e) => ({ ...e, split: 'test' }))]
        .map((e) => JSON.stringify({ ...e, text: cut(e.text) }))
        .join('\n');
      const uploadStarted = performance.now();
      await client.request(CreateDatasetDocument, { input: { name: `spam-assassin-${tag}`, labels: ['ham', 'spam'] } });
      const { createDatasetVersion } = await client.request(CreateDatasetVersionDocument, {
        input: { dataset: `spam-assassin-${tag}`, file: new File([jsonl], 'spam-assassin.jsonl') },
      });
      const uploadS = (performance.now() - uploadStarted) / 1000;
      progress(`uploaded ${createDatasetVersion.version.rowCount} e-mails (${(jsonl.length / 1024 / 1024).toFixed(1)} MiB JSON Lines) in ${uploadS.toFixed(1)} s: ${server.info}`);

      const loops: { seconds: number; run: TrainingRunFieldsFragment; cpuMicros: number }[] = [];
      const alone: { seconds: number; cpuS: number }[] = [];
      for (let round = 1; round <= options.rounds; round++) {
        const model = `loop-${tag}-${round}`;
        await client.request(CreateModelDocument, { input: { name: model, labels: ['ham', 'spam'] } });
        const cpuBefore = await server.cpuMicros();
        const started = performance.now();
        const { startTrainingRun } = await client.request(StartTrainingRunDocument, { input: { model, datasetVersionId: createDatasetVersion.version.id } });
        const run = await untilFinished(client, startTrainingRun.trainingRun.id);
        const seconds = (performance.now() - started) / 1000;
        const cpuMicros = (await server.cpuMicros()) - cpuBefore;
        if (run.status !== 'SUCCEEDED' || !run.promoted) throw new Error(`training run ${run.id} ended ${run.status}, promoted ${run.promoted}: ${run.error ?? ''}`);
        loops.push({ seconds, run, cpuMicros });
        const steps = run.steps.map((s) => `${s.name} ${((Date.parse(s.finishedAt!) - Date.parse(s.startedAt)) / 1000).toFixed(1)}`).join(', ');
        progress(`round ${round}/${options.rounds} startTrainingRun → champion: ${seconds.toFixed(1)} s (steps, s: ${steps})`);
        const m = builtIn(corpus, 16);
        alone.push({ seconds: m.wallS, cpuS: m.cpuS });
        progress(`round ${round}/${options.rounds} trainer alone in-process: ${m.wallS.toFixed(1)} s`);
      }
      const examples = corpus.train.length;
      const sample = (round: number, seconds: number, cpuMicros: number): Sample => ({
        round,
        rps: examples / seconds,
        p50Ms: seconds * 1000,
        p99Ms: seconds * 1000,
        cpuPercent: (100 * cpuMicros) / (seconds * 1e6),
        cpuMicrosPerRequest: cpuMicros / examples,
      });
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
      const last = loops.at(-1)!.run;
      const f1 = (last.evaluation as { challenger?: { macroF1?: number } } | null)?.challenger?.macroF1;
      const platform = fig(
        'startTrainingRun → champion',
        `defaults (5 epochs, dim 16, 2^20 buckets), ${examples} train / ${corpus.test.length} test e-mails, test macro F1 ${f1?.toFixed(4) ?? '?'}; server CPU counts the runner's child process only partly`,
        loops.map((l, i) => sample(i + 1, l.seconds, l.cpuMicros)),
      );
      const baseline = fig('trainer alone, in-process', 'featurize + SGD on the same data, this process', alone.map((a, i) => sample(i + 1, a.seconds, a.cpuS * 1e6)));
      progress(`training alone is ${((100 * baseline.p50Ms) / platform.p50Ms).toFixed(0)}% of the wait; the rest is the runner process, data, inspection, evaluation, registration`);
      const seconds = platform.p50Ms / 1000;
      return {
        id: trainingLoop.id,
        title: `Training loop on SpamAssassin: startTrainingRun to a promoted champion, full stack (req/s = training examples / wall s; p50 ms = wall time)`,
        targets: [platform, baseline],
        ratios: [
          { label: `${TARGET_S} s / startTrainingRun → champion (target: under ${TARGET_S} s, so >= 1)`, value: TARGET_S / seconds, target: 1 },
        ],
      };
    } finally {
      await client.close();
      await server.stop();
    }
  },
};

async function untilFinished(client: ReturnType<typeof clientFor>, id: string): Promise<TrainingRunFieldsFragment> {
  const iterator = client.subscribe(TrainingRunUpdatedDocument, { id });
  const timer = setTimeout(() => void iterator.return?.(), RUN_TIMEOUT_MS);
  let last: TrainingRunFieldsFragment | undefined;
  try {
    for await (const event of { [Symbol.asyncIterator]: () => iterator }) {
      last = event.trainingRunUpdated;
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(last.status)) break;
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
  if (!last) throw new Error(`no event for training run ${id}`);
  return last;
}

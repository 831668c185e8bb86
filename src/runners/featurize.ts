/**
 * Featurizes a run's data for a runner in another language (runners/pytorch/train.py), so that
 * it trains on exactly the hashed ids the platform serves with:
 *
 *   node dist/runners/featurize.js <config.json>
 *
 * reads the same config as any runner, streams the train / test (/ validation) JSON Lines files
 * and writes, under <workDir>/features/, for each split four little-endian arrays
 *
 *   <split>.offsets.i32  count + 1 int32: example i is entries offsets[i] .. offsets[i + 1]
 *   <split>.ids.i32      int32 bucket ids
 *   <split>.weights.f32  float32 weights (count / total per example: they sum to 1)
 *   <split>.labels.i32   int32 label indices into data.labels
 *
 * and features.json (FEATURES_FORMAT, labels, buckets, per-split counts and file names). Prints
 * protocol lines (log, error) and exits 0, 3 on a bad config or data, 143 on SIGTERM.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkFeaturizerForTraining, type PackedExamples } from '../domain/model/index.js';
import { RUNNER_EXIT_SUCCESS } from '../domain/training/index.js';
import { EXIT_TERMINATED, log, onTermination, readConfig, readSplit, RunnerFailure, runMain } from './common.js';

const FEATURES_FORMAT = 'content-arena/packed-features@1';

const bytes = (a: Int32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

async function writeSplit(dir: string, split: string, p: PackedExamples) {
  const files = {
    offsets: `${split}.offsets.i32`,
    ids: `${split}.ids.i32`,
    weights: `${split}.weights.f32`,
    labels: `${split}.labels.i32`,
  };
  await writeFile(path.join(dir, files.offsets), bytes(p.offsets));
  await writeFile(path.join(dir, files.ids), bytes(p.ids));
  await writeFile(path.join(dir, files.weights), bytes(p.weights));
  await writeFile(path.join(dir, files.labels), bytes(p.labels));
  return { count: p.count, entries: p.ids.length, files };
}

async function main(): Promise<number> {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new RunnerFailure('featurize writes little-endian arrays and needs a little-endian host', true);
  const stopRequested = onTermination();
  const config = await readConfig(process.argv);
  const spec = checkFeaturizerForTraining(config.featurizer);
  if (!spec.ok) throw new RunnerFailure(`invalid featurizer: ${spec.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, true);
  const dir = path.join(config.workDir, 'features');
  await mkdir(dir, { recursive: true });
  const splits: Record<string, Awaited<ReturnType<typeof writeSplit>>> = {};
  const files = { train: config.data.train, test: config.data.test, ...(config.data.validation ? { validation: config.data.validation } : {}) };
  for (const [split, file] of Object.entries(files)) {
    const data = await readSplit(file, split, config.data.labels, spec.value, stopRequested);
    if (data === 'stopped') {
      log('warn', `stopped on request while featurizing ${split}`);
      return EXIT_TERMINATED;
    }
    splits[split] = await writeSplit(dir, split, data.packed);
  }
  const manifest = { format: FEATURES_FORMAT, labels: config.data.labels, buckets: spec.value.buckets, featurizer: spec.value, splits };
  await writeFile(path.join(dir, 'features.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  log('info', `features written to ${dir}: ${Object.entries(splits).map(([s, v]) => `${s} ${v.count} examples`).join(', ')}`);
  return RUNNER_EXIT_SUCCESS;
}

runMain(main);

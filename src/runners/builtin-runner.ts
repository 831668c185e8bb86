/**
 * The built-in trainer as a runner (see src/domain/training/runner-protocol.ts):
 *
 *   node dist/runners/builtin-runner.js <config.json>
 *
 * reads the config, streams and featurizes the JSON Lines train / test (/ validation) files,
 * trains the fastText model with the domain trainer on the CPU, evaluates it on the test file,
 * writes <workDir>/model.onnx (exportOnnx, featurizer spec in its metadata) and
 * <workDir>/evaluation.json (the full test metrics), and prints protocol lines throughout.
 * Exit 0 on success, 3 on a bad config or bad data, 143 when stopped by SIGTERM, 1 otherwise.
 *
 * Training runs in chunks of POLL_EVERY_EXAMPLES examples with the event loop turning in between,
 * so SIGTERM is seen within a fraction of a second.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  checkTrainingData,
  checkTrainingSetup,
  evaluateIndices,
  exportOnnx,
  forward,
  POLL_EVERY_EXAMPLES,
  TrainingSession,
  type FastTextWeights,
  type PackedExamples,
} from '../domain/model/index.js';
import { RUNNER_EXIT_SUCCESS, type RunnerConfig } from '../domain/training/index.js';
import { EXIT_TERMINATED, log, onTermination, readConfig, readSplit, RunnerFailure, runMain, say, yieldToEventLoop } from './common.js';

const MODEL_FILE = 'model.onnx';
const EVALUATION_FILE = 'evaluation.json';

async function main(): Promise<number> {
  const stopRequested = onTermination();
  const config = await readConfig(process.argv);
  const setup = checkTrainingSetup({ hyperparameters: config.hyperparameters, featurizer: config.featurizer });
  if (!setup.ok) throw new RunnerFailure(`invalid training setup: ${setup.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, true);
  const { hyperparameters, featurizer: spec } = setup.value;
  const { labels } = config.data;
  if (config.device.kind === 'cuda') log('warn', `the built-in trainer runs on the CPU; device cuda:${config.device.index ?? 0} is left unused`);
  log('info', `built-in fastText trainer, run ${config.runId}: ${JSON.stringify(hyperparameters)}, ${spec.buckets} buckets, labels ${labels.join(', ')}`);

  const started = performance.now();
  const train = await readSplit(config.data.train, 'train', labels, spec, stopRequested);
  if (train === 'stopped') return stopped('while reading the training data');
  const test = await readSplit(config.data.test, 'test', labels, spec, stopRequested);
  if (test === 'stopped') return stopped('while reading the test data');
  const validation = config.data.validation === undefined ? undefined : await readSplit(config.data.validation, 'validation', labels, spec, stopRequested);
  if (validation === 'stopped') return stopped('while reading the validation data');

  const check = checkTrainingData({ labels, trainCounts: train.counts, testCounts: test.counts });
  for (const w of check.warnings) log('warn', `${w.field}: ${w.message}`);
  if (check.problems.length > 0) throw new RunnerFailure(`unusable training data: ${check.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, true);
  log(
    'info',
    `featurized ${train.packed.count} training and ${test.packed.count} test examples in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
      `(${(train.packed.ids.length / Math.max(1, train.packed.count)).toFixed(0)} distinct features per example on average)`,
  );

  const session = new TrainingSession(
    {
      train: train.packed,
      ...(validation ? { validation: validation.packed } : {}),
      labels,
      spec,
      hyperparameters,
      ...(config.data.positiveLabel === undefined ? {} : { positiveLabel: config.data.positiveLabel }),
    },
    {
      onMetric: (p) => say({ type: 'metric', name: p.name, value: p.value, step: p.step, epoch: p.epoch, scope: p.scope }),
      onProgress: (p) => say({ type: 'progress', fraction: p.fraction, step: p.step, epoch: p.epoch }),
      shouldStop: stopRequested,
      now: () => performance.now(),
    },
  );
  while (!session.advance(POLL_EVERY_EXAMPLES)) await yieldToEventLoop();
  const { weights, stats } = session.result();
  if (stats.stopped) return stopped(`after ${stats.steps} of ${stats.totalSteps} steps`);
  log('info', `trained ${stats.steps} steps in ${stats.trainSeconds.toFixed(1)} s (${Math.round(stats.examplesPerSecond)} examples/s), ${stats.activeBuckets} buckets in use`);

  const metrics = evaluateTest(weights, test.packed, config);
  for (const [name, value] of Object.entries(metrics.summary)) say({ type: 'metric', name, value });

  await mkdir(config.workDir, { recursive: true });
  const modelPath = path.join(config.workDir, MODEL_FILE);
  await writeFile(modelPath, exportOnnx(weights, { spec, docString: `fastText-style classifier trained by the built-in runner (run ${config.runId})` }));
  await writeFile(path.join(config.workDir, EVALUATION_FILE), `${JSON.stringify({ runId: config.runId, stats, test: metrics.full }, null, 2)}\n`);
  say({ type: 'artifact', path: MODEL_FILE, format: 'onnx', metrics: metrics.summary });
  return RUNNER_EXIT_SUCCESS;
}

function stopped(when: string): number {
  log('warn', `stopped on request ${when}; no artifact written`);
  return EXIT_TERMINATED;
}

/** The trained model on the test split, through the same forward pass as predict() and the ONNX graph. */
function evaluateTest(weights: FastTextWeights, test: PackedExamples, config: RunnerConfig) {
  const predicted = new Int32Array(test.count);
  for (let i = 0; i < test.count; i++) {
    const from = test.offsets[i]!;
    const to = test.offsets[i + 1]!;
    const probs = forward({ ids: test.ids.subarray(from, to), weights: test.weights.subarray(from, to) }, weights);
    let best = 0;
    for (let c = 1; c < probs.length; c++) if (probs[c]! > probs[best]!) best = c;
    predicted[i] = best;
  }
  const full = evaluateIndices(test.labels, predicted, config.data.labels);
  const summary: Record<string, number> = { test_accuracy: full.accuracy, test_macro_f1: full.macroF1 };
  const positive = config.data.positiveLabel;
  if (positive !== undefined) summary['test_f1'] = full.perClass.find((m) => m.label === positive)!.f1;
  return { full, summary };
}

runMain(main);

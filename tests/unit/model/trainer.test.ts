import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FEATURIZER_SPEC,
  DEFAULT_HYPERPARAMETERS,
  exportOnnx,
  featurize,
  featurizeBatch,
  forward,
  mulberry32,
  packExamples,
  POLL_EVERY_EXAMPLES,
  predict,
  train,
  TrainingSession,
  type FeaturizerSpec,
  type LabeledText,
  type TrainingHyperparameters,
  type TrainingMetricPoint,
} from '../../../src/domain/model/index.js';

const SPEC: FeaturizerSpec = { ...DEFAULT_FEATURIZER_SPEC, buckets: 2 ** 14 };
const LABELS = ['ham', 'spam'];
const HP: TrainingHyperparameters = { ...DEFAULT_HYPERPARAMETERS, epochs: 5, dim: 8, seed: 7, metricsEverySteps: 50 };

const SPAM_WORDS = ['free', 'money', 'winner', 'prize', 'cash', 'click', 'offer', 'bonus'];
const HAM_WORDS = ['meeting', 'agenda', 'lunch', 'report', 'project', 'tomorrow', 'review', 'notes'];

/** A linearly separable toy set: spam texts use only spam words, ham texts only ham words. */
function toySet(n: number, seed: number): LabeledText[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const spam = i % 2 === 0;
    const words = spam ? SPAM_WORDS : HAM_WORDS;
    const length = 3 + Math.floor(rng() * 8);
    const text = Array.from({ length }, () => words[Math.floor(rng() * words.length)]).join(' ');
    return { text, label: spam ? 'spam' : 'ham' };
  });
}

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('train', () => {
  const data = toySet(400, 1);
  const heldOut = toySet(100, 2);

  it('learns a separable toy set to 100% accuracy, and predict() agrees', () => {
    const { weights, stats } = train({ train: data, labels: LABELS, spec: SPEC, hyperparameters: HP });
    expect(stats).toMatchObject({ completed: true, stopped: false, epochs: 5, steps: 2000, totalSteps: 2000, trainExamples: 400 });
    expect(stats.trainAccuracy).toBe(1);
    expect(weights).toMatchObject({ labels: LABELS, dim: 8, buckets: SPEC.buckets });
    for (const e of heldOut) expect(predict(e.text, SPEC, weights).label).toBe(e.label);
    // fastText has no bias; buckets never seen in training stay 0.
    expect(Array.from(weights.outBias)).toEqual([0, 0]);
    const seen = new Set(packExamples(data, LABELS, SPEC).ids);
    expect(seen.size).toBe(stats.activeBuckets);
    const unseen = [...Array(SPEC.buckets).keys()].find((b) => !seen.has(b))!;
    expect(Array.from(weights.embeddings.subarray(unseen * 8, unseen * 8 + 8))).toEqual(new Array(8).fill(0));
  });

  it('same seed and data give identical weights; another seed, other weights', () => {
    const a = train({ train: data, labels: LABELS, spec: SPEC, hyperparameters: HP }).weights;
    const b = train({ train: data, labels: LABELS, spec: SPEC, hyperparameters: HP }).weights;
    const c = train({ train: data, labels: LABELS, spec: SPEC, hyperparameters: { ...HP, seed: 8 } }).weights;
    expect(bytesOf(a.embeddings).equals(bytesOf(b.embeddings))).toBe(true);
    expect(bytesOf(a.outWeights).equals(bytesOf(b.outWeights))).toBe(true);
    expect(bytesOf(a.embeddings).equals(bytesOf(c.embeddings))).toBe(false);
  });

  it('gives the same weights from texts or pre-packed examples, in one call or in chunks, at any dim', () => {
    for (const dim of [1, 5, 16, 65]) {
      const hyperparameters = { ...HP, dim };
      const whole = train({ train: data, labels: LABELS, spec: SPEC, hyperparameters }).weights;
      const session = new TrainingSession({ train: packExamples(data, LABELS, SPEC), labels: LABELS, spec: SPEC, hyperparameters });
      let calls = 0;
      while (!session.advance(37)) calls++;
      expect(calls).toBeGreaterThan(2000 / 37 - 2);
      const chunked = session.result().weights;
      expect(bytesOf(chunked.embeddings).equals(bytesOf(whole.embeddings))).toBe(true);
      expect(bytesOf(chunked.outWeights).equals(bytesOf(whole.outWeights))).toBe(true);
    }
  });

  it('reports metrics per epoch and every metricsEverySteps steps; the loss falls', () => {
    const points: TrainingMetricPoint[] = [];
    const progress: number[] = [];
    let clock = 0;
    train(
      { train: data, validation: heldOut, labels: LABELS, spec: SPEC, hyperparameters: HP, positiveLabel: 'spam' },
      { onMetric: (p) => points.push(p), onProgress: (p) => progress.push(p.fraction), now: () => (clock += 1), progressEveryMs: 100 },
    );
    const epochLoss = points.filter((p) => p.scope === 'epoch' && p.name === 'loss');
    expect(epochLoss.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(epochLoss.map((p) => p.step)).toEqual([400, 800, 1200, 1600, 2000]);
    for (let i = 1; i < epochLoss.length; i++) expect(epochLoss[i]!.value).toBeLessThan(epochLoss[i - 1]!.value);
    const stepLoss = points.filter((p) => p.scope === 'step' && p.name === 'loss');
    expect(stepLoss.map((p) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => (i + 1) * 50));
    expect(stepLoss.at(-1)!.value).toBeLessThan(stepLoss[0]!.value);
    const names = new Set(points.filter((p) => p.scope === 'epoch').map((p) => p.name));
    expect(names).toEqual(new Set(['loss', 'train_accuracy', 'examples_per_second', 'val_accuracy', 'val_f1']));
    const last = (name: string) => points.filter((p) => p.name === name).at(-1)!.value;
    expect(last('val_accuracy')).toBe(1);
    expect(last('val_f1')).toBe(1);
    expect(points.every((p) => Number.isFinite(p.value))).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
  });

  it('honours shouldStop within POLL_EVERY_EXAMPLES examples', () => {
    let polls = 0;
    const { stats } = train({ train: toySet(5000, 3), labels: LABELS, spec: SPEC, hyperparameters: { ...HP, epochs: 50 } }, { shouldStop: () => ++polls >= 3 });
    expect(stats).toMatchObject({ stopped: true, completed: false, steps: 3 * POLL_EVERY_EXAMPLES });
    expect(POLL_EVERY_EXAMPLES).toBeLessThanOrEqual(512);
  });

  it('refuses what it cannot train on', () => {
    expect(() => train({ train: [], labels: LABELS, spec: SPEC, hyperparameters: HP })).toThrow(/empty/);
    expect(() => train({ train: data, labels: ['spam'], spec: SPEC, hyperparameters: HP })).toThrow(/two distinct labels/);
    expect(() => train({ train: [{ text: 'x', label: 'eggs' }], labels: LABELS, spec: SPEC, hyperparameters: HP })).toThrow(/eggs/);
    expect(() => train({ train: data, labels: LABELS, spec: SPEC, hyperparameters: { ...HP, dim: 0 } })).toThrow(/hyperparameters\.dim/);
    const packed = packExamples(data, LABELS, { ...SPEC, buckets: 2 ** 16 });
    expect(() => train({ train: packed, labels: LABELS, spec: SPEC, hyperparameters: HP })).toThrow(/outside the spec's 16384 buckets/);
  });

  it('PARITY: the exported ONNX of a trained model scores what predict() scores', async () => {
    const texts = [...heldOut.map((e) => e.text), '', 'free meeting', 'unrelated words entirely', 'FREE MONEY'];
    const { weights } = train({ train: data, labels: LABELS, spec: SPEC, hyperparameters: HP });
    const bytes = exportOnnx(weights, { spec: SPEC });
    const session = await ort.InferenceSession.create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    try {
      const batch = featurizeBatch(texts, SPEC);
      const out = await session.run({
        ids: new ort.Tensor('int64', batch.ids, [batch.batch, batch.length]),
        weights: new ort.Tensor('float32', batch.weights, [batch.batch, batch.length]),
      });
      const probs = out.probabilities!.data as Float32Array;
      let maxError = 0;
      texts.forEach((text, b) => {
        const expected = forward(featurize(text, SPEC), weights);
        for (let c = 0; c < 2; c++) maxError = Math.max(maxError, Math.abs(probs[2 * b + c]! - expected[c]!));
        const onnxLabel = probs[2 * b]! >= probs[2 * b + 1]! ? 'ham' : 'spam';
        expect(onnxLabel).toBe(predict(text, SPEC, weights).label);
      });
      expect(maxError).toBeLessThan(1e-5);
    } finally {
      await session.release();
    }
  });
});

import { describe, expect, it } from 'vitest';
import {
  assertValidWeights,
  DEFAULT_FEATURIZER_SPEC,
  featurize,
  forward,
  mulberry32,
  predict,
  randomWeights,
  softmax,
  type FastTextWeights,
} from '../../../src/domain/model/index.js';

const SPEC = { ...DEFAULT_FEATURIZER_SPEC, buckets: 2 ** 12 };
const LABELS = ['ham', 'spam', 'phishing'];

describe('forward', () => {
  it('computes softmax(mean embedding · W + b) by hand on a tiny model', () => {
    // 4 buckets, dim 2, 2 labels.
    const w: FastTextWeights = {
      labels: ['a', 'b'],
      dim: 2,
      buckets: 4,
      embeddings: Float32Array.from([1, 0, 0, 1, 2, 2, -1, 3]),
      outWeights: Float32Array.from([1, -1, 0.5, 2]), // [dim][label]
      outBias: Float32Array.from([0.1, -0.2]),
    };
    const probs = forward({ ids: Int32Array.from([0, 3]), weights: Float32Array.from([0.75, 0.25]) }, w);
    // hidden = 0.75·[1,0] + 0.25·[-1,3] = [0.5, 0.75]; logits = [0.5 + 0.375 + 0.1, -0.5 + 1.5 - 0.2]
    const l = [0.975, 0.8];
    const z = Math.exp(l[0]!) + Math.exp(l[1]!);
    expect(probs[0]).toBeCloseTo(Math.exp(l[0]!) / z, 6);
    expect(probs[1]).toBeCloseTo(Math.exp(l[1]!) / z, 6);
  });

  it('returns probabilities that sum to 1 for varied texts', () => {
    const w = randomWeights(LABELS, 16, SPEC.buckets, mulberry32(1));
    for (const text of ['', 'hello', 'FREE MONEY click now', 'x'.repeat(5000), 'Привет мир']) {
      const p = forward(featurize(text, SPEC), w);
      expect(p).toHaveLength(3);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      for (const v of p) expect(v).toBeGreaterThan(0);
    }
  });

  it('gives softmax(bias) for an empty text', () => {
    const w = randomWeights(LABELS, 8, SPEC.buckets, mulberry32(2));
    expect(forward(featurize('', SPEC), w)).toEqual(softmax(w.outBias));
  });

  it('is stable for huge logits', () => {
    const p = softmax(Float64Array.from([1000, 999, -1000]));
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
    expect(p[2]).toBe(0);
  });

  it('refuses feature ids outside the model', () => {
    const w = randomWeights(LABELS, 4, 16, mulberry32(3));
    expect(() => forward({ ids: Int32Array.from([16]), weights: Float32Array.from([1]) }, w)).toThrow(RangeError);
  });
});

describe('predict', () => {
  it('returns the argmax label and every score', () => {
    const w = randomWeights(LABELS, 16, SPEC.buckets, mulberry32(4));
    const text = 'limited offer, click here';
    const p = forward(featurize(text, SPEC), w);
    const result = predict(text, SPEC, w);
    expect(Object.keys(result.scores)).toEqual(LABELS);
    expect(Object.values(result.scores)).toEqual(Array.from(p));
    expect(result.label).toBe(LABELS[p.indexOf(Math.max(...p))]);
  });

  it('refuses a spec whose bucket count differs from the model', () => {
    const w = randomWeights(LABELS, 4, SPEC.buckets, mulberry32(5));
    expect(() => predict('x', DEFAULT_FEATURIZER_SPEC, w)).toThrow(/spec has 1048576 buckets but the model has 4096/);
  });
});

describe('randomWeights', () => {
  it('is reproducible from the seed and sized as announced', () => {
    const a = randomWeights(LABELS, 8, 64, mulberry32(42));
    const b = randomWeights(LABELS, 8, 64, mulberry32(42));
    const c = randomWeights(LABELS, 8, 64, mulberry32(43));
    expect(a).toEqual(b);
    expect(a.embeddings).not.toEqual(c.embeddings);
    expect(a.embeddings).toHaveLength(64 * 8);
    expect(a.outWeights).toHaveLength(8 * 3);
    expect(a.outBias).toHaveLength(3);
    expect(() => assertValidWeights(a)).not.toThrow();
  });

  it('validation lists every inconsistency', () => {
    const bad: FastTextWeights = {
      labels: ['a', 'a'],
      dim: 2,
      buckets: 4,
      embeddings: new Float32Array(7),
      outWeights: new Float32Array(4),
      outBias: new Float32Array(1),
    };
    expect(() => assertValidWeights(bad)).toThrow(/distinct.*embeddings has 7 values.*outBias has 1 values/);
  });
});

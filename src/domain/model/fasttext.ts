/**
 * The fastText classifier's arithmetic, in plain TypeScript: mean of the n-gram embeddings → linear
 * layer → softmax. The exported ONNX graph computes exactly this; the parity test holds them equal.
 */
import { featurize, type Features } from './featurizer.js';
import type { FeaturizerSpec } from './featurizer-spec.js';
import type { Rng } from './rng.js';

export interface FastTextWeights {
  /** Class names, in output order. */
  readonly labels: readonly string[];
  readonly dim: number;
  /** Rows of the embedding table; must equal the featurizer spec's bucket count. */
  readonly buckets: number;
  /** Row-major [buckets][dim]. */
  readonly embeddings: Float32Array;
  /** Row-major [dim][labels]. */
  readonly outWeights: Float32Array;
  /** [labels]. */
  readonly outBias: Float32Array;
}

export interface Prediction {
  /** The most probable label (the first one on a tie). */
  readonly label: string;
  /** Probability of every label; they sum to 1. */
  readonly scores: Record<string, number>;
}

/** Throws unless the arrays have the sizes the header fields announce. */
export function assertValidWeights(w: FastTextWeights): void {
  const problems: string[] = [];
  const C = w.labels.length;
  if (C < 1) problems.push('labels must not be empty');
  if (new Set(w.labels).size !== C) problems.push('labels must be distinct');
  if (!Number.isInteger(w.dim) || w.dim < 1) problems.push(`dim must be a positive integer, got ${w.dim}`);
  if (!Number.isInteger(w.buckets) || w.buckets < 1) problems.push(`buckets must be a positive integer, got ${w.buckets}`);
  if (w.embeddings.length !== w.buckets * w.dim) {
    problems.push(`embeddings has ${w.embeddings.length} values, expected buckets × dim = ${w.buckets * w.dim}`);
  }
  if (w.outWeights.length !== w.dim * C) {
    problems.push(`outWeights has ${w.outWeights.length} values, expected dim × labels = ${w.dim * C}`);
  }
  if (w.outBias.length !== C) problems.push(`outBias has ${w.outBias.length} values, expected ${C}`);
  if (problems.length > 0) throw new Error(`Invalid fastText weights: ${problems.join('; ')}`);
}

/**
 * Class probabilities for one text's features: softmax((Σ weight · embedding[id]) · W + b).
 * Accumulates in float64; the result differs from float32 ONNX Runtime by ~1e-7.
 */
export function forward(features: Features, w: FastTextWeights): Float32Array {
  const { dim, embeddings, outWeights, outBias, buckets } = w;
  const C = outBias.length;
  const { ids, weights } = features;
  const hidden = new Float64Array(dim);
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    if (id < 0 || id >= buckets) throw new RangeError(`feature id ${id} is outside the ${buckets} buckets of the model`);
    const wt = weights[k]!;
    const base = id * dim;
    for (let d = 0; d < dim; d++) hidden[d]! += wt * embeddings[base + d]!;
  }
  const logits = new Float64Array(C);
  for (let c = 0; c < C; c++) logits[c] = outBias[c]!;
  for (let d = 0; d < dim; d++) {
    const h = hidden[d]!;
    const row = d * C;
    for (let c = 0; c < C; c++) logits[c]! += h * outWeights[row + c]!;
  }
  return softmax(logits);
}

/** Numerically stable softmax (the maximum is subtracted before exponentiating). */
export function softmax(logits: Float64Array | Float32Array): Float32Array {
  let max = -Infinity;
  for (let c = 0; c < logits.length; c++) if (logits[c]! > max) max = logits[c]!;
  const exps = new Float64Array(logits.length);
  let sum = 0;
  for (let c = 0; c < logits.length; c++) {
    exps[c] = Math.exp(logits[c]! - max);
    sum += exps[c]!;
  }
  const out = new Float32Array(logits.length);
  for (let c = 0; c < logits.length; c++) out[c] = exps[c]! / sum;
  return out;
}

/** Featurizes and classifies one text. */
export function predict(text: string, spec: FeaturizerSpec, w: FastTextWeights): Prediction {
  if (spec.buckets !== w.buckets) {
    throw new Error(`featurizer spec has ${spec.buckets} buckets but the model has ${w.buckets}`);
  }
  const probs = forward(featurize(text, spec), w);
  const scores: Record<string, number> = {};
  let best = 0;
  for (let c = 0; c < probs.length; c++) {
    scores[w.labels[c]!] = probs[c]!;
    if (probs[c]! > probs[best]!) best = c;
  }
  return { label: w.labels[best]!, scores };
}

/**
 * Random weights for tests and benchmarks: every value uniform in [−1, 1) (the bias in
 * [−0.1, 0.1)), large enough that probabilities differ clearly between texts. Not a training
 * initialization (fastText starts the output layer at zero).
 */
export function randomWeights(labels: readonly string[], dim: number, buckets: number, rng: Rng): FastTextWeights {
  const C = labels.length;
  const uniform = (n: number, scale: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (2 * rng() - 1) * scale;
    return a;
  };
  const w: FastTextWeights = {
    labels: [...labels],
    dim,
    buckets,
    embeddings: uniform(buckets * dim, 1),
    outWeights: uniform(dim * C, 1),
    outBias: uniform(C, 0.1),
  };
  assertValidWeights(w);
  return w;
}

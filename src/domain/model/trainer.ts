/**
 * fastText's supervised trainer (Joulin et al., "Bag of Tricks for Efficient Text Classification";
 * fastText's src/model.cc and SoftmaxLoss), producing exactly the FastTextWeights that `predict`
 * and `exportOnnx` take:
 *
 *   hidden = Σ weight_k · E[id_k]               (the featurizer's weights sum to 1: the mean)
 *   p      = softmax(W · hidden)                 cross-entropy −log p[label]
 *   α_c    = lr · ([c = label] − p_c)
 *   grad  += α_c · W_c;  W_c += α_c · hidden     (grad takes W_c before its update, as fastText does)
 *   E[id_k] += weight_k · grad                   (fastText's normalized gradient: 1/n per occurrence)
 *
 * Plain SGD, one example per step, the learning rate decaying linearly from `learningRate` to 0
 * over all epochs × examples steps; E starts uniform in [−1/dim, 1/dim] and W at 0 (fastText's
 * initialization). Like fastText there is no trained bias: the exported bias is 0.
 *
 * Speed (see shared/STACK.md): every example is featurized once, before the first epoch, into
 * flat Int32Array/Float32Array (ids merged into (id, weight = count / total) by the featurizer);
 * only buckets that occur in the training set get an embedding row, remapped to a dense table, so
 * the hot rows share cache lines; for dim ≤ 64 the loops over dim are unrolled into local
 * variables (a kernel generated per dim, bit-identical to the generic one: ~1.6× faster on
 * SpamAssassin at dim 16, which puts it ahead of fastText's C++). The full bucket table
 * is built once at the end, for export: buckets never seen in training are 0, so an unseen n-gram
 * at inference contributes nothing (fastText leaves them at their random initialization).
 *
 * Training is a TrainingSession that advances a bounded number of examples at a time, so a
 * process can keep its event loop (signals, I/O) turning between chunks; train() runs one to the
 * end. Same seed + same data + same hyperparameters = bit-identical weights.
 */
import { evaluateIndices } from './evaluation.js';
import type { FastTextWeights } from './fasttext.js';
import { featurize, type Features } from './featurizer.js';
import type { FeaturizerSpec } from './featurizer-spec.js';
import { validateHyperparameters, type TrainingHyperparameters } from './hyperparameters.js';
import { mulberry32 } from './rng.js';

export interface LabeledText {
  readonly text: string;
  readonly label: string;
}

/**
 * Examples featurized once and packed back to back: example i's features are
 * ids/weights[offsets[i] .. offsets[i + 1]), its label is labels[i] (an index into the label set).
 */
export interface PackedExamples {
  readonly count: number;
  readonly offsets: Int32Array;
  readonly ids: Int32Array;
  readonly weights: Float32Array;
  readonly labels: Int32Array;
}

/** Packs examples as they come (from a file being read, say), growing its arrays by doubling. */
export class PackedExamplesBuilder {
  private readonly index: Map<string, number>;
  private count = 0;
  private nnz = 0;
  private offsets = new Int32Array(1024);
  private ids = new Int32Array(65536);
  private weights = new Float32Array(65536);
  private labels = new Int32Array(1024);

  constructor(readonly labelSet: readonly string[]) {
    this.index = new Map(labelSet.map((l, i) => [l, i]));
  }

  get size(): number {
    return this.count;
  }

  /** Adds one example's features; throws a RangeError on a label outside the set (check labels first). */
  add(features: Features, label: string): void {
    const c = this.index.get(label);
    if (c === undefined) throw new RangeError(`label ${JSON.stringify(label)} is not in the label set`);
    const n = features.ids.length;
    if (this.count + 2 > this.offsets.length) {
      this.offsets = growInt(this.offsets, this.count + 2);
      this.labels = growInt(this.labels, this.count + 2);
    }
    if (this.nnz + n > this.ids.length) {
      this.ids = growInt(this.ids, this.nnz + n);
      const w = new Float32Array(this.ids.length);
      w.set(this.weights.subarray(0, this.nnz));
      this.weights = w;
    }
    this.ids.set(features.ids, this.nnz);
    this.weights.set(features.weights, this.nnz);
    this.labels[this.count] = c;
    this.nnz += n;
    this.offsets[++this.count] = this.nnz;
  }

  addText(text: string, label: string, spec: FeaturizerSpec): void {
    this.add(featurize(text, spec), label);
  }

  /** Trimmed copies: the builder may go on being used. */
  build(): PackedExamples {
    return {
      count: this.count,
      offsets: this.offsets.slice(0, this.count + 1),
      ids: this.ids.slice(0, this.nnz),
      weights: this.weights.slice(0, this.nnz),
      labels: this.labels.slice(0, this.count),
    };
  }
}

function growInt(a: Int32Array, need: number): Int32Array<ArrayBuffer> {
  let size = a.length;
  while (size < need) size *= 2;
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** Featurizes and packs labelled texts (each text featurized once). */
export function packExamples(examples: readonly LabeledText[], labels: readonly string[], spec: FeaturizerSpec): PackedExamples {
  const builder = new PackedExamplesBuilder(labels);
  for (const e of examples) builder.addText(e.text, e.label, spec);
  return builder.build();
}

export type TrainingMetricName = 'loss' | 'train_accuracy' | 'examples_per_second' | 'val_f1' | 'val_accuracy';

export interface TrainingMetricPoint {
  readonly name: TrainingMetricName;
  readonly value: number;
  /** Examples trained on so far, over all epochs. */
  readonly step: number;
  /** 1-based epoch the point belongs to. */
  readonly epoch: number;
  /**
   * `step`: over the last metricsEverySteps examples; `epoch`: over the whole epoch (val_* only
   * come per epoch). Loss and train accuracy are measured on each example before its update.
   */
  readonly scope: 'step' | 'epoch';
}

export interface TrainingProgress {
  /** Steps done / all steps, 0..1. */
  readonly fraction: number;
  readonly step: number;
  readonly epoch: number;
}

export interface TrainingHooks {
  onMetric?(point: TrainingMetricPoint): void;
  /** At most every `progressEveryMs` of `now()`, and at the end of each epoch. */
  onProgress?(progress: TrainingProgress): void;
  /** Polled every POLL_EVERY_EXAMPLES examples (and between epochs); true stops training there. */
  shouldStop?(): boolean;
  /** Milliseconds on a monotonic clock; only throughput metrics and progress pacing use it. */
  now?(): number;
  /** Defaults to 250. */
  readonly progressEveryMs?: number;
}

export interface TrainingInput {
  /** Texts (featurized here, once) or examples packed beforehand with the same spec and label set. */
  readonly train: readonly LabeledText[] | PackedExamples;
  /** Evaluated after every epoch (val_accuracy, val_f1) when given. */
  readonly validation?: readonly LabeledText[] | PackedExamples;
  /** Class names, in output order. */
  readonly labels: readonly string[];
  readonly spec: FeaturizerSpec;
  readonly hyperparameters: TrainingHyperparameters;
  /** val_f1 is this label's F1 (the harmful class) when given, the macro F1 otherwise. */
  readonly positiveLabel?: string;
}

export interface TrainingStats {
  /** False when shouldStop() ended training early: the weights are then those of an unfinished run. */
  readonly completed: boolean;
  readonly stopped: boolean;
  readonly epochs: number;
  readonly steps: number;
  readonly totalSteps: number;
  readonly trainExamples: number;
  /** Distinct buckets of the training set: the rows that were trained. */
  readonly activeBuckets: number;
  /** Mean loss over the last complete epoch (or the part of it that ran). */
  readonly loss: number;
  readonly trainAccuracy: number;
  /** Wall time of the SGD steps, by `now()`. */
  readonly trainSeconds: number;
  readonly examplesPerSecond: number;
}

export interface TrainingResult {
  readonly weights: FastTextWeights;
  readonly stats: TrainingStats;
}

/** How often shouldStop() is polled: a few hundred examples are well under 100 ms even for long e-mails. */
export const POLL_EVERY_EXAMPLES = 256;

const isPacked = (x: readonly LabeledText[] | PackedExamples): x is PackedExamples => !Array.isArray(x);

function checkPacked(p: PackedExamples, labels: number, buckets: number, what: string): void {
  if (p.offsets.length !== p.count + 1 || p.labels.length !== p.count || p.offsets[0] !== 0 || p.offsets[p.count] !== p.ids.length || p.weights.length !== p.ids.length) {
    throw new Error(`${what}: packed examples are inconsistent (offsets, labels, ids and weights disagree)`);
  }
  for (let i = 0; i < p.count; i++) {
    const l = p.labels[i]!;
    if (l < 0 || l >= labels) throw new RangeError(`${what}: example ${i} has label index ${l}, outside the ${labels} labels`);
  }
  for (let k = 0; k < p.ids.length; k++) {
    const id = p.ids[k]!;
    if (id < 0 || id >= buckets) throw new RangeError(`${what}: feature id ${id} is outside the spec's ${buckets} buckets`);
  }
}

/** One training run, advanced in bounded chunks; see the module comment. */
export class TrainingSession {
  private readonly labels: readonly string[];
  private readonly spec: FeaturizerSpec;
  private readonly hp: TrainingHyperparameters;
  private readonly hooks: TrainingHooks;
  private readonly now: () => number;
  private readonly positive: number;

  private readonly n: number;
  private readonly offsets: Int32Array;
  /** Dense row of each feature occurrence. */
  private readonly rows: Int32Array;
  private readonly fw: Float32Array;
  private readonly y: Int32Array;
  /** Bucket id of each dense row. */
  private readonly bucketOf: Int32Array;
  private readonly val: { offsets: Int32Array; rows: Int32Array; fw: Float32Array; y: Int32Array; count: number } | undefined;

  /** Dense embeddings [rows][dim]. */
  private readonly E: Float32Array;
  /** Output layer [labels][dim] (fastText's layout; transposed at export). */
  private readonly W: Float32Array;
  private readonly hidden: Float64Array;
  private readonly grad: Float64Array;
  private readonly probs: Float64Array;
  private readonly order: Int32Array;
  private readonly rng: () => number;
  private readonly kernel: Kernel;
  private readonly kernelOut = new Float64Array(2);

  private readonly totalSteps: number;
  private step = 0;
  private epoch = 0;
  private pos = 0;
  private finished = false;
  private stopped = false;
  private sinceStop = 0;

  private epochLoss = 0;
  private epochCorrect = 0;
  private epochCount = 0;
  private epochStartMs = 0;
  private windowLoss = 0;
  private windowCorrect = 0;
  private windowCount = 0;
  private windowStartMs = 0;
  private lastProgressMs = -Infinity;
  private trainMs = 0;

  constructor(input: TrainingInput, hooks: TrainingHooks = {}) {
    const checked = validateHyperparameters(input.hyperparameters);
    if (!checked.ok) throw new Error(`Invalid hyperparameters: ${checked.problems.map((p) => `${p.field} ${p.message}`).join('; ')}`);
    const labels = input.labels;
    if (labels.length < 2 || new Set(labels).size !== labels.length) throw new Error('training needs at least two distinct labels');
    this.labels = [...labels];
    this.spec = input.spec;
    this.hp = checked.value;
    this.hooks = hooks;
    this.now = hooks.now ?? (() => performance.now());
    this.positive = input.positiveLabel === undefined ? -1 : labels.indexOf(input.positiveLabel);
    if (input.positiveLabel !== undefined && this.positive < 0) throw new Error(`positiveLabel ${JSON.stringify(input.positiveLabel)} is not a label`);

    const buckets = input.spec.buckets;
    const train = isPacked(input.train) ? input.train : packExamples(input.train, labels, input.spec);
    checkPacked(train, labels.length, buckets, 'train');
    if (train.count === 0) throw new Error('the training set is empty');
    this.n = train.count;
    this.offsets = train.offsets;
    this.fw = train.weights;
    this.y = train.labels;

    // Dense rows for the buckets that occur, in order of first occurrence (deterministic).
    const rowOf = new Int32Array(buckets).fill(-1);
    const rows = new Int32Array(train.ids.length);
    const bucketOf: number[] = [];
    for (let k = 0; k < train.ids.length; k++) {
      const id = train.ids[k]!;
      let r = rowOf[id]!;
      if (r < 0) {
        r = rowOf[id] = bucketOf.length;
        bucketOf.push(id);
      }
      rows[k] = r;
    }
    this.rows = rows;
    this.bucketOf = Int32Array.from(bucketOf);

    if (input.validation !== undefined) {
      const v = isPacked(input.validation) ? input.validation : packExamples(input.validation, labels, input.spec);
      checkPacked(v, labels.length, buckets, 'validation');
      // A bucket never trained maps to −1: a zero row, as in the exported table.
      this.val = { offsets: v.offsets, rows: Int32Array.from(v.ids, (id) => rowOf[id]!), fw: v.weights, y: v.labels, count: v.count };
    }

    const D = this.hp.dim;
    const C = labels.length;
    this.rng = mulberry32(this.hp.seed);
    this.E = new Float32Array(this.bucketOf.length * D);
    const scale = 1 / D;
    for (let i = 0; i < this.E.length; i++) this.E[i] = (2 * this.rng() - 1) * scale;
    this.W = new Float32Array(C * D);
    this.hidden = new Float64Array(D);
    this.grad = new Float64Array(D);
    this.probs = new Float64Array(C);
    this.order = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) this.order[i] = i;
    this.totalSteps = this.n * this.hp.epochs;
    this.kernel = kernelFor(D);
  }

  get done(): boolean {
    return this.finished;
  }

  /**
   * Trains up to `maxExamples` more examples (polling shouldStop() every POLL_EVERY_EXAMPLES);
   * returns true once training is over, finished or stopped.
   */
  advance(maxExamples = Infinity): boolean {
    let budget = maxExamples;
    while (!this.finished && budget > 0) {
      if (this.pos === 0) this.startEpoch();
      const every = this.hp.metricsEverySteps;
      const chunk = Math.min(this.n - this.pos, POLL_EVERY_EXAMPLES - this.sinceStop, budget, every - (this.step % every));
      const t0 = this.now();
      this.runChunk(this.pos, this.pos + chunk);
      this.trainMs += this.now() - t0;
      this.pos += chunk;
      budget -= chunk;
      this.sinceStop += chunk;
      if (this.pos === this.n) this.endEpoch();
      if (this.sinceStop >= POLL_EVERY_EXAMPLES || this.pos === 0) {
        this.sinceStop = 0;
        if (!this.finished && this.hooks.shouldStop?.()) {
          this.stopped = true;
          this.finished = true;
        }
      }
      this.maybeProgress(false);
    }
    return this.finished;
  }

  /** The weights in the full bucket table, ready for predict/exportOnnx. Throws until done. */
  result(): TrainingResult {
    if (!this.finished) throw new Error('training is not over: call advance() until it returns true');
    const D = this.hp.dim;
    const C = this.labels.length;
    const embeddings = new Float32Array(this.spec.buckets * D);
    for (let r = 0; r < this.bucketOf.length; r++) embeddings.set(this.E.subarray(r * D, (r + 1) * D), this.bucketOf[r]! * D);
    const outWeights = new Float32Array(D * C);
    for (let c = 0; c < C; c++) for (let d = 0; d < D; d++) outWeights[d * C + c] = this.W[c * D + d]!;
    const weights: FastTextWeights = { labels: [...this.labels], dim: D, buckets: this.spec.buckets, embeddings, outWeights, outBias: new Float32Array(C) };
    const seconds = this.trainMs / 1000;
    return {
      weights,
      stats: {
        completed: !this.stopped,
        stopped: this.stopped,
        epochs: this.epoch,
        steps: this.step,
        totalSteps: this.totalSteps,
        trainExamples: this.n,
        activeBuckets: this.bucketOf.length,
        loss: this.epochCount > 0 ? this.epochLoss / this.epochCount : NaN,
        trainAccuracy: this.epochCount > 0 ? this.epochCorrect / this.epochCount : NaN,
        trainSeconds: seconds,
        examplesPerSecond: seconds > 0 ? this.step / seconds : 0,
      },
    };
  }

  private startEpoch(): void {
    // Fisher–Yates with the seeded generator.
    const order = this.order;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    this.epochLoss = this.epochCorrect = this.epochCount = 0;
    this.epochStartMs = this.now();
    if (this.step === 0) this.windowStartMs = this.epochStartMs;
  }

  private endEpoch(): void {
    this.epoch++;
    this.pos = 0;
    const epoch = this.epoch;
    const step = this.step;
    const loss = this.epochLoss / this.epochCount;
    const accuracy = this.epochCorrect / this.epochCount;
    const seconds = (this.now() - this.epochStartMs) / 1000;
    const emit = this.hooks.onMetric;
    if (emit) {
      emit({ name: 'loss', value: loss, step, epoch, scope: 'epoch' });
      emit({ name: 'train_accuracy', value: accuracy, step, epoch, scope: 'epoch' });
      if (seconds > 0) emit({ name: 'examples_per_second', value: this.epochCount / seconds, step, epoch, scope: 'epoch' });
      if (this.val) {
        const evaluation = evaluateIndices(this.val.y, this.predictValidation(), this.labels);
        emit({ name: 'val_accuracy', value: evaluation.accuracy, step, epoch, scope: 'epoch' });
        const f1 = this.positive >= 0 ? evaluation.perClass[this.positive]!.f1 : evaluation.macroF1;
        emit({ name: 'val_f1', value: f1, step, epoch, scope: 'epoch' });
      }
    }
    if (epoch === this.hp.epochs) this.finished = true;
    this.maybeProgress(true);
  }

  private maybeProgress(force: boolean): void {
    const on = this.hooks.onProgress;
    if (!on) return;
    const t = this.now();
    if (!force && t - this.lastProgressMs < (this.hooks.progressEveryMs ?? 250)) return;
    this.lastProgressMs = t;
    on({ fraction: this.step / this.totalSteps, step: this.step, epoch: Math.min(this.epoch + (this.pos > 0 ? 1 : 0), this.hp.epochs) });
  }

  private emitWindow(): void {
    const emit = this.hooks.onMetric;
    const count = this.windowCount;
    if (emit && count > 0) {
      const epoch = this.epoch + 1;
      const step = this.step;
      emit({ name: 'loss', value: this.windowLoss / count, step, epoch, scope: 'step' });
      emit({ name: 'train_accuracy', value: this.windowCorrect / count, step, epoch, scope: 'step' });
      const seconds = (this.now() - this.windowStartMs) / 1000;
      if (seconds > 0) emit({ name: 'examples_per_second', value: count / seconds, step, epoch, scope: 'step' });
    }
    this.windowStartMs = this.now();
    this.windowLoss = this.windowCorrect = this.windowCount = 0;
  }

  /** The SGD steps for order[from..to), which never crosses a metrics boundary. */
  private runChunk(from: number, to: number): void {
    const out = this.kernelOut;
    this.kernel(this.order, from, to, this.offsets, this.rows, this.fw, this.y, this.E, this.W, this.probs, this.hidden, this.grad, this.hp.learningRate, this.totalSteps, this.step, out);
    const count = to - from;
    this.step += count;
    this.epochLoss += out[0]!;
    this.epochCorrect += out[1]!;
    this.epochCount += count;
    this.windowLoss += out[0]!;
    this.windowCorrect += out[1]!;
    this.windowCount += count;
    if (this.step % this.hp.metricsEverySteps === 0) this.emitWindow();
  }

  /** Predicted label index of every validation example with the current (dense) weights. */
  private predictValidation(): Int32Array {
    const v = this.val!;
    const D = this.hp.dim;
    const C = this.labels.length;
    const { E, W, hidden } = this;
    const out = new Int32Array(v.count);
    for (let i = 0; i < v.count; i++) {
      hidden.fill(0);
      for (let k = v.offsets[i]!; k < v.offsets[i + 1]!; k++) {
        const r = v.rows[k]!;
        if (r < 0) continue;
        const w = v.fw[k]!;
        const b = r * D;
        for (let d = 0; d < D; d++) hidden[d]! += w * E[b + d]!;
      }
      let best = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += W[c * D + d]! * hidden[d]!;
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      out[i] = best;
    }
    return out;
  }
}

/**
 * The SGD steps for examples order[from..to): out[0] = their summed loss, out[1] = how many were
 * predicted right (both before the example's update).
 */
type Kernel = (
  order: Int32Array,
  from: number,
  to: number,
  offsets: Int32Array,
  rows: Int32Array,
  fw: Float32Array,
  y: Int32Array,
  E: Float32Array,
  W: Float32Array,
  probs: Float64Array,
  hidden: Float64Array,
  grad: Float64Array,
  lr0: number,
  total: number,
  step0: number,
  out: Float64Array,
) => void;

/** Dimensions up to this get a kernel with the loops over dim unrolled into local variables. */
const MAX_UNROLLED_DIM = 64;
const kernels = new Map<number, Kernel>();

function kernelFor(dim: number): Kernel {
  if (dim > MAX_UNROLLED_DIM) return genericKernel;
  let k = kernels.get(dim);
  if (!k) {
    k = unrolledKernel(dim);
    kernels.set(dim, k);
  }
  return k;
}

/**
 * The same arithmetic as genericKernel, in the same order, with hidden[d] and grad[d] as local
 * variables h0…h(D−1), g0…g(D−1): V8 keeps them in registers instead of a Float64Array that is
 * loaded and stored once per feature and dimension. Generated source, because that is the only
 * way to have D locals for a D known only at run time; it is built from integers alone.
 */
function unrolledKernel(D: number): Kernel {
  const ds = Array.from({ length: D }, (_, d) => d);
  const list = (f: (d: number) => string, sep: string) => ds.map(f).join(sep);
  const body = `
    const C = probs.length;
    let loss = 0, correct = 0, step = step0;
    for (let i = from; i < to; i++) {
      const ex = order[i], start = offsets[ex], end = offsets[ex + 1], label = y[ex];
      const lr = lr0 * (1 - step / total);
      let ${list((d) => `h${d} = 0`, ', ')};
      for (let k = start; k < end; k++) {
        const w = fw[k], b = rows[k] * ${D};
        ${list((d) => `h${d} += w * E[b + ${d}];`, ' ')}
      }
      let max = -Infinity;
      for (let c = 0; c < C; c++) {
        const b = c * ${D};
        let s = 0;
        ${list((d) => `s += W[b + ${d}] * h${d};`, ' ')}
        probs[c] = s;
        if (s > max) max = s;
      }
      let sum = 0, best = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(probs[c] - max);
        probs[c] = e;
        sum += e;
        if (e > probs[best]) best = c;
      }
      const p = probs[label] / sum;
      loss -= Math.log(p > 1e-12 ? p : 1e-12);
      if (best === label) correct++;
      let ${list((d) => `g${d} = 0`, ', ')};
      for (let c = 0; c < C; c++) {
        const alpha = lr * ((c === label ? 1 : 0) - probs[c] / sum);
        const b = c * ${D};
        ${list((d) => `g${d} += alpha * W[b + ${d}]; W[b + ${d}] += alpha * h${d};`, ' ')}
      }
      for (let k = start; k < end; k++) {
        const w = fw[k], b = rows[k] * ${D};
        ${list((d) => `E[b + ${d}] += w * g${d};`, ' ')}
      }
      step++;
    }
    out[0] = loss;
    out[1] = correct;
  `;
  return new Function('order', 'from', 'to', 'offsets', 'rows', 'fw', 'y', 'E', 'W', 'probs', 'hidden', 'grad', 'lr0', 'total', 'step0', 'out', body) as Kernel;
}

/** Any dim: hidden and grad in Float64Arrays. */
function genericKernel(
  order: Int32Array,
  from: number,
  to: number,
  offsets: Int32Array,
  rows: Int32Array,
  fw: Float32Array,
  y: Int32Array,
  E: Float32Array,
  W: Float32Array,
  probs: Float64Array,
  hidden: Float64Array,
  grad: Float64Array,
  lr0: number,
  total: number,
  step0: number,
  out: Float64Array,
): void {
  const D = hidden.length;
  const C = probs.length;
  let loss = 0;
  let correct = 0;
  let step = step0;
  for (let i = from; i < to; i++) {
    const ex = order[i]!;
    const start = offsets[ex]!;
    const end = offsets[ex + 1]!;
    const label = y[ex]!;
    const lr = lr0 * (1 - step / total);

    // hidden = Σ w · E[row]
    hidden.fill(0);
    for (let k = start; k < end; k++) {
      const w = fw[k]!;
      const b = rows[k]! * D;
      for (let d = 0; d < D; d++) hidden[d]! += w * E[b + d]!;
    }

    // p = softmax(W · hidden)
    let max = -Infinity;
    for (let c = 0; c < C; c++) {
      const b = c * D;
      let s = 0;
      for (let d = 0; d < D; d++) s += W[b + d]! * hidden[d]!;
      probs[c] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    let best = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(probs[c]! - max);
      probs[c] = e;
      sum += e;
      if (e > probs[best]!) best = c;
    }
    const p = probs[label]! / sum;
    loss -= Math.log(p > 1e-12 ? p : 1e-12);
    if (best === label) correct++;

    // Output layer, and the gradient for the input rows (from W before its update).
    grad.fill(0);
    for (let c = 0; c < C; c++) {
      const alpha = lr * ((c === label ? 1 : 0) - probs[c]! / sum);
      const b = c * D;
      for (let d = 0; d < D; d++) {
        grad[d]! += alpha * W[b + d]!;
        W[b + d]! += alpha * hidden[d]!;
      }
    }

    // E[row] += w · grad
    for (let k = start; k < end; k++) {
      const w = fw[k]!;
      const b = rows[k]! * D;
      for (let d = 0; d < D; d++) E[b + d]! += w * grad[d]!;
    }
    step++;
  }
  out[0] = loss;
  out[1] = correct;
}

/** Trains to the end (or until shouldStop()) in one call. */
export function train(input: TrainingInput, hooks: TrainingHooks = {}): TrainingResult {
  const session = new TrainingSession(input, hooks);
  session.advance();
  return session.result();
}

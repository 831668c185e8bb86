/**
 * The built-in trainer's hyperparameters: defaults, and validation that lists every problem at
 * once (field + a message a person can act on), so a training run is refused before it starts
 * rather than failing an hour in. Also the checks on the training data that make a run pointless.
 */
import { FeaturizerSpecError, MAX_BUCKETS, parseFeaturizerSpec, type FeaturizerSpec } from './featurizer-spec.js';

export interface TrainingHyperparameters {
  /** Passes over the training set. */
  readonly epochs: number;
  /** SGD step size at the start; it decays linearly to 0 over all steps, as in fastText. */
  readonly learningRate: number;
  /** Embedding size. */
  readonly dim: number;
  /** Seeds weight initialization and the per-epoch shuffle: same seed + same data = same weights. */
  readonly seed: number;
  /** A `loss` / `train_accuracy` / `examples_per_second` metric point every this many examples (besides one per epoch). */
  readonly metricsEverySteps: number;
}

/** fastText's supervised settings at the platform model's size (dim 16, as the serving benchmarks assume). */
export const DEFAULT_HYPERPARAMETERS: TrainingHyperparameters = Object.freeze({
  epochs: 5,
  learningRate: 0.5,
  dim: 16,
  seed: 1,
  metricsEverySteps: 1000,
});

export const HYPERPARAMETER_LIMITS = Object.freeze({
  epochs: { min: 1, max: 100 },
  /** Exclusive minimum 0. */
  learningRate: { max: 10 },
  dim: { min: 1, max: 512 },
  seed: { min: 0, max: 2 ** 32 - 1 },
  metricsEverySteps: { min: 1, max: 1_000_000_000 },
  /** Fewer buckets than 2^10 collide too much for a text classifier to learn. */
  buckets: { min: 2 ** 10, max: MAX_BUCKETS },
  /** buckets × dim float32 values: the exported ONNX file holds the whole table (1 GiB). */
  maxEmbeddingValues: 2 ** 28,
});

/** The fewest training examples a run accepts. */
export const MIN_TRAINING_EXAMPLES = 10;

export interface TrainingProblem {
  /** Where the problem is, as a path into the run's configuration: `hyperparameters.dim`, `featurizer.buckets`, `data.train`. */
  readonly field: string;
  readonly message: string;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly TrainingProblem[] };

const KEYS = Object.keys(DEFAULT_HYPERPARAMETERS) as (keyof TrainingHyperparameters)[];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v)));

function integerIn(field: string, value: unknown, min: number, max: number, problems: TrainingProblem[], hint = ''): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push({ field, message: `must be an integer from ${min} to ${max}${hint}; got ${show(value)}` });
  }
}

/**
 * Hyperparameters from JSON (a run's stored settings or a user's input); a missing field takes its
 * default. Unknown keys are problems, not ignored: `learning_rate` must not silently train with the
 * default learning rate.
 */
export function validateHyperparameters(json: unknown, defaults: TrainingHyperparameters = DEFAULT_HYPERPARAMETERS): Checked<TrainingHyperparameters> {
  if (json === undefined || json === null) return { ok: true, value: { ...defaults } };
  if (!isRecord(json)) return { ok: false, problems: [{ field: 'hyperparameters', message: `must be an object; got ${show(json)}` }] };
  const problems: TrainingProblem[] = [];
  for (const key of Object.keys(json)) {
    if ((KEYS as string[]).includes(key)) continue;
    problems.push({
      field: `hyperparameters.${key}`,
      message:
        key === 'baseModel'
          ? 'the built-in trainer trains a fastText model from scratch and cannot fine-tune a base model; use the PyTorch runner (runners/pytorch) for that'
          : `unknown hyperparameter; the built-in trainer takes ${KEYS.join(', ')}`,
    });
  }
  const value = { ...defaults, ...Object.fromEntries(KEYS.filter((k) => json[k] !== undefined).map((k) => [k, json[k]])) } as Record<string, unknown>;
  const L = HYPERPARAMETER_LIMITS;
  integerIn('hyperparameters.epochs', value['epochs'], L.epochs.min, L.epochs.max, problems);
  const lr = value['learningRate'];
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0 || lr > L.learningRate.max) {
    problems.push({
      field: 'hyperparameters.learningRate',
      message: `must be a number greater than 0 and at most ${L.learningRate.max} (fastText's usual range is 0.05 to 1); got ${show(lr)}`,
    });
  }
  integerIn('hyperparameters.dim', value['dim'], L.dim.min, L.dim.max, problems);
  integerIn('hyperparameters.seed', value['seed'], L.seed.min, L.seed.max, problems, ' (an unsigned 32-bit integer)');
  integerIn('hyperparameters.metricsEverySteps', value['metricsEverySteps'], L.metricsEverySteps.min, L.metricsEverySteps.max, problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: value as unknown as TrainingHyperparameters };
}

/** The featurizer spec's own rules (parseFeaturizerSpec), plus the bucket range training accepts. */
export function checkFeaturizerForTraining(json: unknown): Checked<FeaturizerSpec> {
  let spec: FeaturizerSpec;
  try {
    spec = parseFeaturizerSpec(json);
  } catch (error) {
    if (!(error instanceof FeaturizerSpecError)) throw error;
    return {
      ok: false,
      problems: error.problems.map((p) => {
        // parseFeaturizerSpec's problems read "path: message".
        const at = p.indexOf(': ');
        const path = at > 0 ? p.slice(0, at) : '(spec)';
        return { field: path === '(spec)' ? 'featurizer' : `featurizer.${path}`, message: at > 0 ? p.slice(at + 2) : p };
      }),
    };
  }
  const { min, max } = HYPERPARAMETER_LIMITS.buckets;
  if (spec.buckets < min || spec.buckets > max) {
    return {
      ok: false,
      problems: [{ field: 'featurizer.buckets', message: `training needs a power of two from 2^10 (${min}) to 2^24 (${max}); got ${spec.buckets}` }],
    };
  }
  return { ok: true, value: spec };
}

/** Hyperparameters and featurizer together, with the checks that need both (the size of the model). */
export function checkTrainingSetup(input: { readonly hyperparameters: unknown; readonly featurizer: unknown }): Checked<{
  readonly hyperparameters: TrainingHyperparameters;
  readonly featurizer: FeaturizerSpec;
}> {
  const hp = validateHyperparameters(input.hyperparameters);
  const spec = checkFeaturizerForTraining(input.featurizer);
  const problems = [...(hp.ok ? [] : hp.problems), ...(spec.ok ? [] : spec.problems)];
  if (hp.ok && spec.ok) {
    const values = hp.value.dim * spec.value.buckets;
    if (values > HYPERPARAMETER_LIMITS.maxEmbeddingValues) {
      const gib = (values * 4) / 2 ** 30;
      problems.push({
        field: 'hyperparameters.dim',
        message:
          `dim ${hp.value.dim} × ${spec.value.buckets} buckets makes a ${gib.toFixed(1)} GiB embedding table; the most is 1 GiB ` +
          `(dim × buckets ≤ 2^28): lower dim or featurizer.buckets`,
      });
    }
  }
  if (problems.length > 0 || !hp.ok || !spec.ok) return { ok: false, problems };
  return { ok: true, value: { hyperparameters: hp.value, featurizer: spec.value } };
}

export interface TrainingDataSummary {
  /** The label set of the run, in output order. */
  readonly labels: readonly string[];
  /** How many training examples carry each label, labels outside the set included. */
  readonly trainCounts: Readonly<Record<string, number>>;
  /** Likewise for the test split, when there is one. */
  readonly testCounts?: Readonly<Record<string, number>>;
  /** Defaults to MIN_TRAINING_EXAMPLES. */
  readonly minExamples?: number;
}

export interface DataCheck {
  /** Any of these makes the run pointless: refuse it. */
  readonly problems: readonly TrainingProblem[];
  /** Worth telling the person, not worth refusing for. */
  readonly warnings: readonly TrainingProblem[];
}

const listLabels = (labels: readonly string[]) => labels.map((l) => JSON.stringify(l)).join(', ');

/**
 * What makes training data unusable: a label set that is not two or more distinct names, labels
 * outside the set, fewer than two classes present in the training split, too few examples.
 */
export function checkTrainingData(summary: TrainingDataSummary): DataCheck {
  const problems: TrainingProblem[] = [];
  const warnings: TrainingProblem[] = [];
  const { labels } = summary;
  const minExamples = summary.minExamples ?? MIN_TRAINING_EXAMPLES;
  if (labels.length < 2) problems.push({ field: 'data.labels', message: `a classifier needs at least two labels; got ${labels.length}` });
  if (new Set(labels).size !== labels.length) problems.push({ field: 'data.labels', message: `labels must be distinct; got ${listLabels(labels)}` });
  if (labels.some((l) => l.length === 0)) problems.push({ field: 'data.labels', message: 'labels must not be empty strings' });

  const known = new Set(labels);
  const splits = [['train', summary.trainCounts] as const, ...(summary.testCounts ? [['test', summary.testCounts] as const] : [])];
  for (const [split, counts] of splits) {
    const unknown = Object.entries(counts).filter(([label, n]) => !known.has(label) && n > 0);
    if (unknown.length > 0) {
      problems.push({
        field: `data.${split}`,
        message:
          `${unknown.map(([label, n]) => `${n} example(s) labelled ${JSON.stringify(label)}`).join(', ')}: not in the label set ${listLabels(labels)}; ` +
          'relabel them or add the label to data.labels',
      });
    }
  }

  const trainTotal = Object.values(summary.trainCounts).reduce((a, b) => a + b, 0);
  if (trainTotal < minExamples) {
    problems.push({ field: 'data.train', message: `the training split has ${trainTotal} example(s); training needs at least ${minExamples}` });
  }
  const present = [...known].filter((l) => (summary.trainCounts[l] ?? 0) > 0);
  if (present.length < 2 && trainTotal > 0) {
    problems.push({
      field: 'data.train',
      message: `the training split has examples of ${present.length === 0 ? 'no label of the set' : `only ${JSON.stringify(present[0])}`}; a classifier needs at least two classes`,
    });
  }
  const absent = [...known].filter((l) => (summary.trainCounts[l] ?? 0) === 0);
  if (present.length >= 2 && absent.length > 0) {
    warnings.push({ field: 'data.train', message: `no training example of ${listLabels(absent)}: the model will hardly ever predict ${absent.length === 1 ? 'it' : 'them'}` });
  }
  if (summary.testCounts) {
    const testTotal = Object.values(summary.testCounts).reduce((a, b) => a + b, 0);
    if (testTotal === 0) warnings.push({ field: 'data.test', message: 'the test split is empty: the model cannot be evaluated' });
  }
  return { problems, warnings };
}

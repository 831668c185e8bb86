import { describe, expect, it } from 'vitest';
import {
  checkFeaturizerForTraining,
  checkTrainingData,
  checkTrainingSetup,
  DEFAULT_FEATURIZER_SPEC,
  DEFAULT_HYPERPARAMETERS,
  validateHyperparameters,
  type TrainingProblem,
} from '../../../src/domain/model/index.js';

const problems = (json: unknown): readonly TrainingProblem[] => {
  const r = validateHyperparameters(json);
  return r.ok ? [] : r.problems;
};
const fields = (json: unknown) => problems(json).map((p) => p.field);

describe('validateHyperparameters', () => {
  it('fills in defaults for what is missing', () => {
    expect(validateHyperparameters(undefined)).toEqual({ ok: true, value: DEFAULT_HYPERPARAMETERS });
    expect(validateHyperparameters({})).toEqual({ ok: true, value: DEFAULT_HYPERPARAMETERS });
    expect(validateHyperparameters({ epochs: 20, dim: 32 })).toEqual({ ok: true, value: { ...DEFAULT_HYPERPARAMETERS, epochs: 20, dim: 32 } });
    expect(DEFAULT_HYPERPARAMETERS).toEqual({ epochs: 5, learningRate: 0.5, dim: 16, seed: 1, metricsEverySteps: 1000 });
  });

  it.each([
    [{ epochs: 0 }, 'hyperparameters.epochs', /integer from 1 to 100; got 0/],
    [{ epochs: 101 }, 'hyperparameters.epochs', /got 101/],
    [{ epochs: 2.5 }, 'hyperparameters.epochs', /integer/],
    [{ epochs: '5' }, 'hyperparameters.epochs', /got "5"/],
    [{ learningRate: 0 }, 'hyperparameters.learningRate', /greater than 0 and at most 10/],
    [{ learningRate: 10.5 }, 'hyperparameters.learningRate', /at most 10/],
    [{ learningRate: Number.NaN }, 'hyperparameters.learningRate', /number/],
    [{ dim: 513 }, 'hyperparameters.dim', /1 to 512/],
    [{ seed: -1 }, 'hyperparameters.seed', /unsigned 32-bit/],
    [{ seed: 1.5 }, 'hyperparameters.seed', /integer/],
    [{ metricsEverySteps: 0 }, 'hyperparameters.metricsEverySteps', /from 1/],
    [{ learning_rate: 0.1 }, 'hyperparameters.learning_rate', /unknown hyperparameter; the built-in trainer takes epochs, learningRate/],
    [{ baseModel: '/models/bert' }, 'hyperparameters.baseModel', /PyTorch runner/],
  ])('%j → %s', (json, field, message) => {
    const found = problems(json);
    expect(found).toHaveLength(1);
    expect(found[0]!.field).toBe(field);
    expect(found[0]!.message).toMatch(message);
  });

  it('lists every problem at once', () => {
    expect(fields({ epochs: 0, learningRate: -1, dim: 0, seed: 'x', metricsEverySteps: 0, extra: 1 })).toEqual([
      'hyperparameters.extra',
      'hyperparameters.epochs',
      'hyperparameters.learningRate',
      'hyperparameters.dim',
      'hyperparameters.seed',
      'hyperparameters.metricsEverySteps',
    ]);
    expect(fields([1, 2])).toEqual(['hyperparameters']);
  });
});

describe('checkFeaturizerForTraining / checkTrainingSetup', () => {
  it('reuses the featurizer spec rules, with fields under featurizer.', () => {
    const r = checkFeaturizerForTraining({ ...DEFAULT_FEATURIZER_SPEC, buckets: 3000, maxChars: 0 });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems.map((p) => p.field).sort()).toEqual(['featurizer.buckets', 'featurizer.maxChars']);
  });

  it('needs 2^10 to 2^24 buckets to train', () => {
    const r = checkFeaturizerForTraining({ ...DEFAULT_FEATURIZER_SPEC, buckets: 512 });
    expect(r).toEqual({ ok: false, problems: [{ field: 'featurizer.buckets', message: expect.stringMatching(/2\^10 \(1024\) to 2\^24/) }] });
    expect(checkFeaturizerForTraining(DEFAULT_FEATURIZER_SPEC)).toEqual({ ok: true, value: DEFAULT_FEATURIZER_SPEC });
  });

  it('refuses an embedding table over 1 GiB, and collects problems of both parts', () => {
    const big = checkTrainingSetup({ hyperparameters: { dim: 512 }, featurizer: { ...DEFAULT_FEATURIZER_SPEC, buckets: 2 ** 24 } });
    expect(big.ok ? [] : big.problems).toEqual([{ field: 'hyperparameters.dim', message: expect.stringMatching(/32\.0 GiB embedding table; the most is 1 GiB/) }]);
    const both = checkTrainingSetup({ hyperparameters: { epochs: 0 }, featurizer: { kind: 'nope' } });
    expect(both.ok ? [] : both.problems.map((p) => p.field)).toContain('hyperparameters.epochs');
    expect(both.ok ? [] : both.problems.some((p) => p.field.startsWith('featurizer'))).toBe(true);
    expect(checkTrainingSetup({ hyperparameters: {}, featurizer: DEFAULT_FEATURIZER_SPEC }).ok).toBe(true);
  });
});

describe('checkTrainingData', () => {
  const labels = ['ham', 'spam'];
  it.each([
    ['fine', { labels, trainCounts: { ham: 10, spam: 10 } }, []],
    ['one class only', { labels, trainCounts: { ham: 20 } }, [['data.train', /only "ham"; a classifier needs at least two classes/]]],
    ['too few', { labels, trainCounts: { ham: 2, spam: 3 } }, [['data.train', /5 example\(s\); training needs at least 10/]]],
    ['custom minimum', { labels, trainCounts: { ham: 2, spam: 3 }, minExamples: 5 }, []],
    ['unknown label', { labels, trainCounts: { ham: 10, spam: 10, spma: 2 } }, [['data.train', /2 example\(s\) labelled "spma": not in the label set "ham", "spam"/]]],
    ['unknown label in test', { labels, trainCounts: { ham: 10, spam: 10 }, testCounts: { ham: 1, eggs: 1 } }, [['data.test', /labelled "eggs"/]]],
    ['one label', { labels: ['ham'], trainCounts: { ham: 20 } }, [['data.labels', /at least two labels/], ['data.train', /only "ham"/]]],
    ['duplicate labels', { labels: ['a', 'a'], trainCounts: { a: 20 } }, [['data.labels', /distinct/], ['data.train', /only "a"/]]],
  ] as const)('%s', (_name, summary, expected) => {
    const { problems: found } = checkTrainingData(summary);
    expect(found.map((p) => p.field)).toEqual(expected.map((e) => e[0]));
    found.forEach((p, i) => expect(p.message).toMatch(expected[i]![1]));
  });

  it('warns about classes with no training example and an empty test split', () => {
    const { problems: found, warnings } = checkTrainingData({ labels: ['ham', 'spam', 'phishing'], trainCounts: { ham: 10, spam: 10 }, testCounts: {} });
    expect(found).toEqual([]);
    expect(warnings.map((w) => w.message)).toEqual([expect.stringMatching(/no training example of "phishing"/), expect.stringMatching(/test split is empty/)]);
  });
});

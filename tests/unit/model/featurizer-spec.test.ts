import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FEATURIZER_SPEC,
  FeaturizerSpecError,
  HARDENED_FEATURIZER_SPEC,
  parseFeaturizerSpec,
} from '../../../src/domain/model/index.js';

const problemsOf = (json: unknown): readonly string[] => {
  try {
    parseFeaturizerSpec(json);
  } catch (error) {
    expect(error).toBeInstanceOf(FeaturizerSpecError);
    return (error as FeaturizerSpecError).problems;
  }
  throw new Error('expected the spec to be rejected');
};

const withChanges = (changes: Record<string, unknown>) => ({ ...structuredClone(DEFAULT_FEATURIZER_SPEC), ...changes });

describe('featurizer spec', () => {
  it('ships a plain default and a hardened spec that differ only in normalization', () => {
    expect(DEFAULT_FEATURIZER_SPEC).toEqual({
      kind: 'hashed-ngrams',
      version: 1,
      normalization: { nfkc: true, lowercase: true, foldConfusables: false, stripInvisible: false, joinSpacedLetters: false },
      wordNgrams: { min: 1, max: 2 },
      charNgrams: { min: 3, max: 5 },
      buckets: 2 ** 20,
      maxChars: 4000,
    });
    expect(Object.values(HARDENED_FEATURIZER_SPEC.normalization).every((on) => on)).toBe(true);
    expect({ ...HARDENED_FEATURIZER_SPEC, normalization: DEFAULT_FEATURIZER_SPEC.normalization }).toEqual(DEFAULT_FEATURIZER_SPEC);
  });

  it.each([
    ['default', DEFAULT_FEATURIZER_SPEC],
    ['hardened', HARDENED_FEATURIZER_SPEC],
  ])('round-trips the %s spec through JSON', (_name, spec) => {
    const parsed = parseFeaturizerSpec(JSON.parse(JSON.stringify(spec)));
    expect(parsed).toEqual(spec);
    expect(Object.isFrozen(parsed)).toBe(false);
  });

  it('accepts one n-gram kind turned off with { min: 0, max: 0 }', () => {
    const spec = parseFeaturizerSpec(withChanges({ wordNgrams: { min: 0, max: 0 } }));
    expect(spec.wordNgrams).toEqual({ min: 0, max: 0 });
  });

  it.each<[string, unknown, readonly string[]]>([
    ['not an object', 'hashed-ngrams', ['(spec): Invalid input: expected object, received string']],
    ['wrong kind and version', withChanges({ kind: 'bpe', version: 2 }), ['kind: ', 'version: ']],
    ['buckets not a power of two', withChanges({ buckets: 1000 }), ['buckets: must be a power of two']],
    ['buckets too large', withChanges({ buckets: 2 ** 25 }), ['buckets: ']],
    ['min above max', withChanges({ charNgrams: { min: 5, max: 3 } }), ['charNgrams: min must not exceed max']],
    ['min 0 with max > 0', withChanges({ wordNgrams: { min: 0, max: 2 } }), ['wordNgrams: min may be 0 only']],
    ['both kinds off', withChanges({ wordNgrams: { min: 0, max: 0 }, charNgrams: { min: 0, max: 0 } }), ['(spec): at least one']],
    ['unknown key', withChanges({ lowercase: true }), ['(spec): Unrecognized key: "lowercase"']],
    ['maxChars zero', withChanges({ maxChars: 0 }), ['maxChars: ']],
  ])('rejects %s', (_name, json, expected) => {
    const problems = problemsOf(json);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((prefix, i) => expect(problems[i]).toContain(prefix));
  });

  it('lists every problem at once, with its path', () => {
    const problems = problemsOf({
      kind: 'hashed-ngrams',
      version: 1,
      normalization: { nfkc: 'yes', lowercase: true, foldConfusables: false, stripInvisible: false },
      wordNgrams: { min: 1, max: 99 },
      charNgrams: { min: 3, max: 5 },
      buckets: 3,
      maxChars: 1.5,
    });
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/normalization\.nfkc: /);
    expect(problems.join('\n')).toMatch(/normalization\.joinSpacedLetters: /);
    expect(problems.join('\n')).toMatch(/wordNgrams\.max: /);
    expect(problems.join('\n')).toMatch(/buckets: must be a power of two/);
    expect(problems.join('\n')).toMatch(/maxChars: /);
    expect(() => parseFeaturizerSpec({})).toThrow(/^Invalid featurizer spec:\n {2}- /);
  });
});

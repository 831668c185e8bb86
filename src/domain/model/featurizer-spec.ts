import { z } from 'zod';

/**
 * Which text transformations run before n-grams are extracted. Each one is a flag so that a model
 * version records exactly what its training data went through: serving must repeat it bit for bit.
 */
export interface NormalizationSpec {
  /** Unicode NFKC: fullwidth, ligatures, math alphanumerics, circled letters → their plain form. */
  readonly nfkc: boolean;
  /** Locale-independent `toLowerCase()`. */
  readonly lowercase: boolean;
  /** TR39-style homoglyph folding (Cyrillic а → a, Greek ο → o, …); see normalize.ts. */
  readonly foldConfusables: boolean;
  /** Drop default-ignorable code points: zero-width characters, bidi controls, variation selectors, tags, soft hyphens. */
  readonly stripInvisible: boolean;
  /** "f r e e  m o n e y" → "free money". */
  readonly joinSpacedLetters: boolean;
}

/** An inclusive n-gram length range; `{ min: 0, max: 0 }` turns that kind of n-gram off. */
export interface NgramRange {
  readonly min: number;
  readonly max: number;
}

/**
 * Everything that determines the feature ids of a text. Plain JSON, stored with every model version
 * (and in the exported ONNX metadata) so any process reproduces the exact input of the model.
 * Bump `version` whenever featurize() would produce different ids for the same spec.
 */
export interface FeaturizerSpec {
  readonly kind: 'hashed-ngrams';
  readonly version: 1;
  readonly normalization: NormalizationSpec;
  /** Word n-grams over tokens (runs of letters, digits and combining marks). */
  readonly wordNgrams: NgramRange;
  /** Character n-grams (in code points) of each token wrapped in fastText's `<` `>` boundary markers. */
  readonly charNgrams: NgramRange;
  /** Size of the hashed feature space: a power of two, so `hash mod buckets` is a mask. */
  readonly buckets: number;
  /** The normalized text is cut after this many UTF-16 code units (never inside a surrogate pair). */
  readonly maxChars: number;
}

/** Largest bucket count accepted: 2^24 rows × dim 16 × 4 bytes is already a 1 GiB embedding table. */
export const MAX_BUCKETS = 2 ** 24;
const MAX_WORD_NGRAM = 8;
const MAX_CHAR_NGRAM = 12;
const MAX_MAX_CHARS = 1_000_000;

/** Plain fastText-style features: what most text classifiers do. */
export const DEFAULT_FEATURIZER_SPEC: FeaturizerSpec = Object.freeze({
  kind: 'hashed-ngrams',
  version: 1,
  normalization: Object.freeze({
    nfkc: true,
    lowercase: true,
    foldConfusables: false,
    stripInvisible: false,
    joinSpacedLetters: false,
  }),
  wordNgrams: Object.freeze({ min: 1, max: 2 }),
  charNgrams: Object.freeze({ min: 3, max: 5 }),
  buckets: 2 ** 20,
  maxChars: 4000,
});

/** The same features after every anti-evasion normalization: what a defender under attack wants. */
export const HARDENED_FEATURIZER_SPEC: FeaturizerSpec = Object.freeze({
  ...DEFAULT_FEATURIZER_SPEC,
  normalization: Object.freeze({
    nfkc: true,
    lowercase: true,
    foldConfusables: true,
    stripInvisible: true,
    joinSpacedLetters: true,
  }),
});

/** Thrown by parseFeaturizerSpec; `problems` lists every problem found, one per entry. */
export class FeaturizerSpecError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid featurizer spec:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'FeaturizerSpecError';
  }
}

const ngramRange = (limit: number) =>
  z
    .object({
      min: z.number().int().min(0).max(limit),
      max: z.number().int().min(0).max(limit),
    })
    .strict()
    .refine((r) => r.min <= r.max, { message: 'min must not exceed max' })
    .refine((r) => r.min >= 1 || r.max === 0, {
      message: 'min may be 0 only together with max 0 (which turns this n-gram kind off)',
    });

const specSchema = z
  .object({
    kind: z.literal('hashed-ngrams'),
    version: z.literal(1),
    normalization: z
      .object({
        nfkc: z.boolean(),
        lowercase: z.boolean(),
        foldConfusables: z.boolean(),
        stripInvisible: z.boolean(),
        joinSpacedLetters: z.boolean(),
      })
      .strict(),
    wordNgrams: ngramRange(MAX_WORD_NGRAM),
    charNgrams: ngramRange(MAX_CHAR_NGRAM),
    buckets: z
      .number()
      .int()
      .min(2)
      .max(MAX_BUCKETS)
      .refine((n) => (n & (n - 1)) === 0, { message: 'must be a power of two' }),
    maxChars: z.number().int().min(1).max(MAX_MAX_CHARS),
  })
  .strict()
  .refine((s) => s.wordNgrams.max > 0 || s.charNgrams.max > 0, {
    message: 'at least one of wordNgrams and charNgrams must be on',
  });

/**
 * Validates stored or user-supplied JSON. Unknown keys are errors rather than silently dropped: a
 * spec from a newer version must not be served as if it were this one.
 */
export function parseFeaturizerSpec(json: unknown): FeaturizerSpec {
  const result = specSchema.safeParse(json);
  if (!result.success) {
    throw new FeaturizerSpecError(
      result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(spec)'}: ${issue.message}`),
    );
  }
  const s = result.data;
  return {
    kind: s.kind,
    version: s.version,
    normalization: { ...s.normalization },
    wordNgrams: { ...s.wordNgrams },
    charNgrams: { ...s.charNgrams },
    buckets: s.buckets,
    maxChars: s.maxChars,
  };
}

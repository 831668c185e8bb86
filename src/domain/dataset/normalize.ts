import { normalizeText } from '../model/normalize.js';
import type { NormalizationSpec } from '../model/featurizer-spec.js';
import { digest64, digestFraction, type Digest } from './digest.js';

/**
 * What "the same text" means for duplicates and the split: the featurizer's hardened
 * normalization (invisible characters, NFKC, homoglyphs, case, spaced-out letters) plus
 * whitespace collapsed. An attacker's variant of a text ("Ϝrее  ｍoney") is then a duplicate of
 * it, so the two always land in the same split and a test set never holds a disguised copy of a
 * training example.
 */
export const DEDUP_NORMALIZATION: NormalizationSpec = {
  nfkc: true,
  lowercase: true,
  foldConfusables: true,
  stripInvisible: true,
  joinSpacedLetters: true,
};

const WHITESPACE = /\s+/gu;

export function normalizeForDedup(text: string): string {
  return normalizeText(text, DEDUP_NORMALIZATION).replace(WHITESPACE, ' ').trim();
}

/** Seeds keep the two digests of one text independent. */
const EXACT_SEED = 0x5eed;

export interface TextDigests {
  /** Of the text as given: exact duplicates. */
  readonly exact: Digest;
  /** Of the normalized text: duplicates after normalization, and the split. */
  readonly normalized: Digest;
}

export function textDigests(text: string): TextDigests {
  return { exact: digest64(text, EXACT_SEED), normalized: digest64(normalizeForDedup(text)) };
}

export const SPLITS = ['train', 'test'] as const;
export type Split = (typeof SPLITS)[number];
export const isSplit = (value: unknown): value is Split => value === 'train' || value === 'test';

export const DEFAULT_SPLIT_RATIO = 0.2;

/**
 * The deterministic split: a stable hash of the normalized text, `test` when its fraction is below
 * the ratio. Duplicates after normalization share the hash, so they never straddle the split.
 */
export function splitOf(normalized: Digest, testRatio: number): Split {
  return digestFraction(normalized) < testRatio ? 'test' : 'train';
}

export function checkSplitRatio(ratio: number): string | undefined {
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) return `splitRatio must be from 0 to 1 (the share of examples held out for test); got ${ratio}.`;
  return undefined;
}

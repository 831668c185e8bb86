/**
 * The blind strategies: `(text, rng, options?) → variant`, no defender in the loop. Each is a
 * per-word rewrite plus the shared choice of which words to rewrite, so a several-KB e-mail gets a
 * fraction of its words perturbed (`intensity`), the caller's "important" words first, and every
 * character outside the chosen words stays as it was.
 */
import type { Rng } from '../model/rng.js';
import { HOMOGLYPHS, INSERTED_PUNCTUATION, INVISIBLES, LEET, SPACERS, VOWEL_DIGITS, fullwidth } from './glyphs.js';
import { lexiconSubstitutes, matchCase } from './lexicon.js';
import { chooseWords, joinWords, pick, randomInt, splitWords } from './words.js';

export const BLIND_STRATEGY_IDS = [
  'leetspeak',
  'homoglyphs',
  'invisible',
  'spacing',
  'char-swap',
  'char-drop',
  'char-duplicate',
  'word-split',
  'case-mix',
  'lexicon',
  'chain',
] as const;
export type BlindStrategyId = (typeof BLIND_STRATEGY_IDS)[number];

export interface StrategyOptions {
  /** Share of the eligible words to perturb, 0..1 (at least one word is always perturbed). */
  readonly intensity?: number;
  /** Word indices (see splitWords) to perturb first, most important first. */
  readonly important?: readonly number[];
}

export type Strategy = (text: string, rng: Rng, options?: StrategyOptions) => string;

/** Rewrites one word. */
export type WordPerturber = (word: string, rng: Rng) => string;

export const DEFAULT_INTENSITY = 0.4;

interface WordStrategy {
  readonly id: BlindStrategyId;
  readonly name: string;
  readonly description: string;
  /** Words this strategy can change. */
  readonly eligible: (word: string) => boolean;
  /** Words to take before random ones (after the caller's important words). */
  readonly prefers?: (word: string) => boolean;
  /** A perturber for one variant: `chain` picks its steps here, once per variant. */
  readonly perturber: (rng: Rng) => WordPerturber;
}

const SURROGATE = /[\ud800-\udfff]/;
/** Code points; `split('')` when there are no surrogate pairs (nearly always, and much cheaper). */
const chars = (word: string): string[] => (SURROGATE.test(word) ? Array.from(word) : word.split(''));
const LEET_LETTER = /[abegilostz]/i;
const HOMOGLYPH_LETTER = new RegExp(`[${Object.keys(HOMOGLYPHS).join('')}]`);
const CASED = /[\p{Lu}\p{Ll}\p{Lt}]/u;
const minLength = (n: number) => (word: string) => word.length >= n;
const hasCase = (ch: string) => ch.toLowerCase() !== ch.toUpperCase();
const lowerKey = (ch: string) => ch.toLowerCase();
const probability = 0.5;

/** Replaces each character that `options(ch)` knows with probability ½, and at least one. */
function substituteSome(word: string, rng: Rng, options: (ch: string) => readonly string[] | undefined): string {
  const cs = chars(word);
  const candidates: number[] = [];
  let changed = false;
  for (let i = 0; i < cs.length; i++) {
    const alternatives = options(cs[i]!);
    if (alternatives === undefined) continue;
    candidates.push(i);
    if (rng() < probability) {
      cs[i] = pick(rng, alternatives);
      changed = true;
    }
  }
  if (!changed && candidates.length > 0) {
    const i = pick(rng, candidates);
    cs[i] = pick(rng, options(cs[i]!)!);
  }
  return cs.join('');
}

const leet: WordPerturber = (word, rng) => substituteSome(word, rng, (ch) => LEET[lowerKey(ch)]);

const homoglyph: WordPerturber = (word, rng) => {
  const swapped = substituteSome(word, rng, (ch) => HOMOGLYPHS[ch]);
  // A few fullwidth letters on top, where nothing else changed (NFKC folds them, see glyphs.ts).
  const before = chars(word);
  let out = '';
  for (const [i, ch] of chars(swapped).entries()) {
    const wide = ch === before[i] && rng() < 0.15 ? fullwidth(ch) : undefined;
    out += wide ?? ch;
  }
  return out;
};

/** Inserts `what(rng)` at `count` distinct interior positions (between code points). */
function insertInside(word: string, rng: Rng, count: number, what: (rng: Rng) => string): string {
  const cs = chars(word);
  if (cs.length < 2) return word + what(rng);
  const gaps = new Set<number>();
  const want = Math.min(count, cs.length - 1);
  while (gaps.size < want) gaps.add(1 + randomInt(rng, cs.length - 1));
  let out = '';
  for (let i = 0; i < cs.length; i++) out += (gaps.has(i) ? what(rng) : '') + cs[i];
  return out;
}

const invisible: WordPerturber = (word, rng) => insertInside(word, rng, word.length > 6 ? 2 : 1, (r) => pick(r, INVISIBLES));

const spacing: WordPerturber = (word, rng) => {
  const cs = chars(word);
  if (cs.length >= 3 && rng() < 0.5) return cs.join(pick(rng, SPACERS));
  return insertInside(word, rng, cs.length > 6 ? 2 : 1, (r) => pick(r, INSERTED_PUNCTUATION));
};

const charSwap: WordPerturber = (word, rng) => {
  const cs = chars(word);
  // DeepWordBug keeps the first and last letters where it can: readers barely notice.
  const interior: number[] = [];
  const any: number[] = [];
  for (let j = 0; j + 1 < cs.length; j++) {
    if (cs[j] === cs[j + 1]) continue;
    any.push(j);
    if (j >= 1 && j + 2 <= cs.length - 1) interior.push(j);
  }
  const from = interior.length > 0 ? interior : any;
  if (from.length === 0) return charDrop(word, rng);
  const j = pick(rng, from);
  [cs[j], cs[j + 1]] = [cs[j + 1]!, cs[j]!];
  return cs.join('');
};

const charDrop: WordPerturber = (word, rng) => {
  const cs = chars(word);
  if (cs.length < 2) return word;
  const j = cs.length >= 3 ? 1 + randomInt(rng, cs.length - 2) : randomInt(rng, cs.length);
  cs.splice(j, 1);
  return cs.join('');
};

const charDuplicate: WordPerturber = (word, rng) => {
  const cs = chars(word);
  const j = randomInt(rng, cs.length);
  cs.splice(j, 0, cs[j]!);
  return cs.join('');
};

const wordSplit: WordPerturber = (word, rng) => insertInside(word, rng, word.length >= 9 ? 2 : 1, () => ' ');

const caseMix: WordPerturber = (word, rng) => {
  const cs = chars(word);
  const cased: number[] = [];
  let changed = false;
  const flip = (ch: string) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase());
  for (let i = 0; i < cs.length; i++) {
    if (!hasCase(cs[i]!)) continue;
    cased.push(i);
    if (rng() < probability) {
      cs[i] = flip(cs[i]!);
      changed = true;
    }
  }
  if (!changed && cased.length > 0) {
    const i = pick(rng, cased);
    cs[i] = flip(cs[i]!);
  }
  return cs.join('');
};

/** A word the lexicon does not know gets a plain misspelling instead. */
const misspell: WordPerturber = (word, rng) => {
  const cs = chars(word);
  const vowels = cs.flatMap((ch, i) => (VOWEL_DIGITS[ch.toLowerCase()] !== undefined ? [i] : []));
  if (vowels.length === 0) return charDuplicate(word, rng);
  const i = pick(rng, vowels);
  cs[i] = VOWEL_DIGITS[cs[i]!.toLowerCase()]!;
  return cs.join('');
};

const lexicon: WordPerturber = (word, rng) => {
  const substitutes = lexiconSubstitutes(word);
  return substitutes === undefined ? misspell(word, rng) : matchCase(word, pick(rng, substitutes));
};

const constant = (perturb: WordPerturber) => () => perturb;

const WORD_STRATEGIES: Readonly<Record<BlindStrategyId, WordStrategy>> = {
  leetspeak: {
    id: 'leetspeak',
    name: 'Leetspeak',
    description: 'Letters become lookalike digits and symbols (free → fr33, cash → ca$h).',
    eligible: (w) => LEET_LETTER.test(w),
    perturber: constant(leet),
  },
  homoglyphs: {
    id: 'homoglyphs',
    name: 'Homoglyphs',
    description: 'Latin letters become Cyrillic, Greek and other lookalikes (some fullwidth); beats NFKC, not confusable folding.',
    eligible: (w) => HOMOGLYPH_LETTER.test(w),
    perturber: constant(homoglyph),
  },
  invisible: {
    id: 'invisible',
    name: 'Invisible characters',
    description: 'Zero-width characters and soft hyphens inside words (fr\u200bee); beats featurizers that do not strip them.',
    eligible: minLength(2),
    perturber: constant(invisible),
  },
  spacing: {
    id: 'spacing',
    name: 'Spacing and punctuation',
    description: 'Letters spaced out (f r e e, f.r.e.e) or punctuation pushed inside words (fr.ee).',
    eligible: minLength(2),
    perturber: constant(spacing),
  },
  'char-swap': {
    id: 'char-swap',
    name: 'Character swap',
    description: 'Two neighbouring letters trade places, first and last kept where possible (DeepWordBug).',
    eligible: minLength(2),
    perturber: constant(charSwap),
  },
  'char-drop': {
    id: 'char-drop',
    name: 'Character drop',
    description: 'One letter inside the word is dropped (DeepWordBug).',
    eligible: minLength(2),
    perturber: constant(charDrop),
  },
  'char-duplicate': {
    id: 'char-duplicate',
    name: 'Character duplicate',
    description: 'One letter is doubled (DeepWordBug).',
    eligible: minLength(1),
    perturber: constant(charDuplicate),
  },
  'word-split': {
    id: 'word-split',
    name: 'Word split',
    description: 'A space breaks the word in two (mon ey); spaced-letter joining does not undo it.',
    eligible: minLength(3),
    perturber: constant(wordSplit),
  },
  'case-mix': {
    id: 'case-mix',
    name: 'Case mixing',
    description: 'Random letters change case (FrEe); only beats featurizers that do not lowercase.',
    eligible: (w) => CASED.test(w),
    perturber: constant(caseMix),
  },
  lexicon: {
    id: 'lexicon',
    name: 'Lexicon substitution',
    description: 'Known spam and toxic trigger words become synonyms or misspellings (money → cash, click → tap); other words get a plain misspelling.',
    eligible: minLength(2),
    prefers: (w) => lexiconSubstitutes(w) !== undefined,
    perturber: constant(lexicon),
  },
  chain: {
    id: 'chain',
    name: 'Chain',
    description: 'Two or three of the other strategies applied one after the other to the same words.',
    eligible: minLength(2),
    prefers: (w) => lexiconSubstitutes(w) !== undefined,
    perturber: (rng) => chainPerturber(randomChain(rng)),
  },
};

/** The strategies a chain draws from: every word strategy but the chain itself. */
const CHAINABLE = BLIND_STRATEGY_IDS.filter((id) => id !== 'chain');

/** 2–3 distinct steps; a lexicon step goes first, while the words are still the words it knows. */
export function randomChain(rng: Rng): BlindStrategyId[] {
  const pool = [...CHAINABLE];
  const length = rng() < 0.5 ? 2 : 3;
  const steps: BlindStrategyId[] = [];
  for (let k = 0; k < length; k++) steps.push(pool.splice(randomInt(rng, pool.length), 1)[0]!);
  const lexiconAt = steps.indexOf('lexicon');
  if (lexiconAt > 0) steps.unshift(...steps.splice(lexiconAt, 1));
  return steps;
}

function chainPerturber(steps: readonly BlindStrategyId[]): WordPerturber {
  const perturbers = steps.map((id) => ({ def: WORD_STRATEGIES[id], perturb: WORD_STRATEGIES[id].perturber(() => 0) }));
  return (word, rng) => {
    let out = word;
    for (const { def, perturb } of perturbers) if (def.eligible(out)) out = perturb(out, rng);
    return out;
  };
}

/** The per-word rewrite of a strategy for one variant (what the greedy attack applies word by word). */
export function wordPerturber(id: BlindStrategyId, rng: Rng): WordPerturber {
  return WORD_STRATEGIES[id].perturber(rng);
}

export function isEligibleWord(id: BlindStrategyId, word: string): boolean {
  return WORD_STRATEGIES[id].eligible(word);
}

function clampIntensity(intensity: number | undefined): number {
  if (intensity === undefined || Number.isNaN(intensity)) return DEFAULT_INTENSITY;
  return Math.min(1, Math.max(0, intensity));
}

function applyWordStrategy(def: WordStrategy, perturb: WordPerturber, text: string, rng: Rng, options?: StrategyOptions): string {
  const words = splitWords(text);
  const eligible: number[] = [];
  const preferred: number[] = [];
  for (let i = 0; i < words.words.length; i++) {
    const w = words.words[i]!;
    if (!def.eligible(w)) continue;
    eligible.push(i);
    if (def.prefers?.(w)) preferred.push(i);
  }
  const count = Math.max(1, Math.round(clampIntensity(options?.intensity) * eligible.length));
  const chosen = chooseWords(eligible, count, rng, options?.important, preferred);
  const replacements = new Map<number, string>();
  for (const i of chosen) replacements.set(i, perturb(words.words[i]!, rng));
  return joinWords(words, replacements);
}

function strategyOf(def: WordStrategy): Strategy {
  return (text, rng, options) => applyWordStrategy(def, def.perturber(rng), text, rng, options);
}

/** The blind strategies by id. */
export const STRATEGIES: Readonly<Record<BlindStrategyId, Strategy>> = Object.freeze(
  Object.fromEntries(BLIND_STRATEGY_IDS.map((id) => [id, strategyOf(WORD_STRATEGIES[id])])) as Record<BlindStrategyId, Strategy>,
);

/** A chain of the given steps, in that order (the `chain` strategy draws its steps at random). */
export function chainOf(steps: readonly BlindStrategyId[]): Strategy {
  const perturb = chainPerturber(steps);
  const def: WordStrategy = { ...WORD_STRATEGIES.chain, eligible: (w) => steps.some((id) => WORD_STRATEGIES[id].eligible(w)) };
  return (text, rng, options) => applyWordStrategy(def, perturb, text, rng, options);
}

/** Perturbs exactly the words at `indices` with `perturb` (the greedy attack's step). */
export function perturbWordsAt(text: string, indices: readonly number[], perturb: WordPerturber, rng: Rng): string {
  const words = splitWords(text);
  const replacements = new Map<number, string>();
  for (const i of indices) {
    const w = words.words[i];
    if (w !== undefined && !replacements.has(i)) replacements.set(i, perturb(w, rng));
  }
  return joinWords(words, replacements);
}

export interface StrategyDescription {
  readonly id: string;
  readonly name: string;
  readonly description: string;
}

export function describeBlindStrategy(id: BlindStrategyId): StrategyDescription {
  const { name, description } = WORD_STRATEGIES[id];
  return { id, name, description };
}

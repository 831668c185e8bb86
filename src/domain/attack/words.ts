/**
 * Words of a text, with their positions, so a strategy can rewrite chosen words and leave every
 * other character (whitespace, punctuation, line breaks of a long e-mail) exactly where it was.
 * A word is a run of letters, digits and combining marks: the same unit the featurizer's tokens
 * are, so "word i" means the same thing to the attacker, the importance ranking and the defender.
 */
import type { Rng } from '../model/rng.js';

export interface Words {
  readonly text: string;
  /** The words, in order. */
  readonly words: readonly string[];
  /** `starts[i]`..`ends[i]` is word i in `text` (UTF-16 offsets). */
  readonly starts: readonly number[];
  readonly ends: readonly number[];
}

const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;

export function splitWords(text: string): Words {
  const words: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  WORD.lastIndex = 0;
  for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) {
    words.push(m[0]);
    starts.push(m.index);
    ends.push(m.index + m[0].length);
  }
  return { text, words, starts, ends };
}

/** The text with word i replaced by `replacements.get(i)` where one is given. */
export function joinWords(words: Words, replacements: ReadonlyMap<number, string>): string {
  if (replacements.size === 0) return words.text;
  // In text order without sorting: a dense array when many words change (long e-mails), the keys otherwise.
  const n = words.words.length;
  let indices: Iterable<number>;
  if (replacements.size * 8 >= n) {
    const dense: number[] = [];
    for (let i = 0; i < n; i++) if (replacements.has(i)) dense.push(i);
    indices = dense;
  } else {
    indices = [...replacements.keys()].sort((a, b) => a - b);
  }
  let out = '';
  let copied = 0;
  for (const i of indices) {
    const start = words.starts[i];
    if (start === undefined) continue;
    out += words.text.slice(copied, start) + replacements.get(i)!;
    copied = words.ends[i]!;
  }
  return out + words.text.slice(copied);
}

/**
 * Which words to perturb: `count` of the eligible ones — the `important` indices first (in the
 * order given), then the `preferred` ones, then a seeded random sample of the rest. Returned in
 * selection order, without duplicates.
 */
export function chooseWords(
  eligible: readonly number[],
  count: number,
  rng: Rng,
  important: readonly number[] = [],
  preferred: readonly number[] = [],
): number[] {
  if (count <= 0 || eligible.length === 0) return [];
  // Marks by word index (eligible is ascending): 1 = eligible, 2 = taken.
  const size = eligible[eligible.length - 1]! + 1;
  const mark = new Uint8Array(size);
  for (const i of eligible) mark[i] = 1;
  const chosen: number[] = [];
  const take = (i: number) => {
    if (chosen.length < count && i >= 0 && i < size && mark[i] === 1) {
      mark[i] = 2;
      chosen.push(i);
    }
  };
  for (const i of important) take(i);
  // Preferred words beyond what fits are sampled, not taken in text order: a spam e-mail says
  // "free" twenty times and the ones at the end matter as much as the ones at the start.
  if (chosen.length < count && preferred.length > 0) {
    const pool = preferred.filter((i) => mark[i] === 1);
    for (const i of sample(pool, count - chosen.length, rng)) take(i);
  }
  if (chosen.length < count) {
    const pool = chosen.length === 0 ? [...eligible] : eligible.filter((i) => mark[i] === 1);
    for (const i of sample(pool, count - chosen.length, rng)) take(i);
  }
  return chosen;
}

/** `k` distinct items of `pool` by a partial Fisher–Yates shuffle (mutates `pool`). */
function sample(pool: number[], k: number, rng: Rng): number[] {
  const n = pool.length;
  const m = Math.min(k, n);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.slice(0, m);
}

/** A random integer in [0, n). */
export const randomInt = (rng: Rng, n: number): number => Math.floor(rng() * n);

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

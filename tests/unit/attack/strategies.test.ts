import { describe, expect, it } from 'vitest';
import {
  BLIND_STRATEGY_IDS,
  LEXICON,
  STRATEGIES,
  chainOf,
  perturbWordsAt,
  randomChain,
  splitWords,
  wordPerturber,
  type BlindStrategyId,
} from '../../../src/domain/attack/index.js';
import { HOMOGLYPHS, INVISIBLES } from '../../../src/domain/attack/glyphs.js';
import { DEFAULT_FEATURIZER_SPEC, HARDENED_FEATURIZER_SPEC, foldConfusables, mulberry32, normalizeText } from '../../../src/domain/model/index.js';
import { EMAIL, PLAIN, SPAM, TOXIC, lcsLength } from './fixtures.js';

const TEXTS = { SPAM, TOXIC, PLAIN, EMAIL };
const SEEDS = [1, 2, 3, 42, 1234];
const HARDENED = HARDENED_FEATURIZER_SPEC.normalization;
const DEFAULT = DEFAULT_FEATURIZER_SPEC.normalization;

describe.each(BLIND_STRATEGY_IDS.map((id) => [id]))('strategy %s', (id: BlindStrategyId) => {
  const attack = STRATEGIES[id];

  it.each(Object.entries(TEXTS))('changes the %s text for every seed', (_name, text) => {
    for (const seed of SEEDS) expect(attack(text, mulberry32(seed))).not.toBe(text);
  });

  it('is deterministic for a seed, and the seed matters', () => {
    for (const seed of SEEDS) expect(attack(SPAM, mulberry32(seed))).toBe(attack(SPAM, mulberry32(seed)));
    const variants = new Set(SEEDS.map((seed) => attack(SPAM, mulberry32(seed))));
    expect(variants.size).toBeGreaterThan(1);
  });

  it.each(Object.entries(TEXTS))('keeps the %s text readable: most of it survives in order', (_name, text) => {
    // LCS is quadratic: one seed for the e-mail.
    for (const seed of text === EMAIL ? SEEDS.slice(0, 1) : SEEDS) {
      const variant = attack(text, mulberry32(seed));
      expect(lcsLength(text, variant) / Array.from(text).length).toBeGreaterThanOrEqual(0.6);
    }
  });

  it('touches only the words it chose: text outside them is unchanged', () => {
    // With the lowest intensity one word of the e-mail changes; the rest of the text is intact.
    const variant = attack(EMAIL, mulberry32(9), { intensity: 0 });
    const prefix = commonPrefix(EMAIL, variant);
    const suffix = commonPrefix([...EMAIL].reverse().join(''), [...variant].reverse().join(''));
    expect(prefix + suffix).toBeGreaterThan(EMAIL.length - 40);
  });

  it('perturbs the important word first', () => {
    const words = splitWords(PLAIN);
    const target = words.words.indexOf('quarterly');
    const variant = attack(PLAIN, mulberry32(5), { intensity: 0, important: [target] });
    expect(variant.startsWith(PLAIN.slice(0, words.starts[target]))).toBe(true);
    expect(variant.endsWith(PLAIN.slice(words.ends[target]))).toBe(true);
  });

  it('leaves a text without words alone', () => {
    expect(attack('', mulberry32(1))).toBe('');
    expect(attack('!!! ... ???', mulberry32(1))).toBe('!!! ... ???');
  });
});

describe('intensity on a long e-mail', () => {
  // Homoglyphs, case mixing and duplication keep the word count (leetspeak's $ and @ split words), so changed words can be counted position by position.
  it.each<[BlindStrategyId, number]>([
    ['homoglyphs', 0.1],
    ['homoglyphs', 0.5],
    ['case-mix', 0.25],
    ['char-duplicate', 0.3],
  ])('%s at %f perturbs that share of the words', (id, intensity) => {
    const before = splitWords(EMAIL).words;
    const after = splitWords(STRATEGIES[id](EMAIL, mulberry32(3), { intensity })).words;
    expect(after).toHaveLength(before.length);
    const changed = before.filter((w, i) => w !== after[i]).length;
    const eligible = id === 'char-duplicate' ? before.length : before.filter((w) => /[a-z]/i.test(w)).length;
    expect(Math.abs(changed - intensity * eligible)).toBeLessThanOrEqual(eligible * 0.1);
  });

  it('more intensity changes more words', () => {
    const count = (intensity: number) => {
      const before = splitWords(EMAIL).words;
      const after = splitWords(STRATEGIES.homoglyphs(EMAIL, mulberry32(3), { intensity })).words;
      return before.filter((w, i) => w !== after[i]).length;
    };
    expect(count(0.1)).toBeLessThan(count(0.3));
    expect(count(0.3)).toBeLessThan(count(0.9));
  });
});

describe('hardened normalization undoes invisible characters and homoglyphs; the default one does not', () => {
  it.each<[BlindStrategyId, string, string]>(
    (['invisible', 'homoglyphs'] as const).flatMap((id) => Object.entries(TEXTS).map(([name, text]): [BlindStrategyId, string, string] => [id, name, text])),
  )('%s on %s', (id, _name, text) => {
    for (const seed of SEEDS) {
      const variant = STRATEGIES[id](text, mulberry32(seed), { intensity: 0.6 });
      expect(normalizeText(variant, HARDENED)).toBe(normalizeText(text, HARDENED));
      expect(normalizeText(variant, DEFAULT)).not.toBe(normalizeText(text, DEFAULT));
    }
  });

  it('every homoglyph folds to its letter and survives NFKC + lowercasing', () => {
    for (const [letter, glyphs] of Object.entries(HOMOGLYPHS)) {
      for (const glyph of glyphs) {
        expect(foldConfusables(`x${glyph}x`), `U+${glyph.codePointAt(0)!.toString(16)}`).toBe(`x${letter}x`);
        expect(normalizeText(glyph, DEFAULT)).not.toBe(letter.toLowerCase());
      }
    }
  });

  it('uses the six invisible characters', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) for (const ch of STRATEGIES.invisible(SPAM, mulberry32(seed))) if (INVISIBLES.includes(ch)) seen.add(ch);
    expect([...seen].sort()).toEqual([...INVISIBLES].sort());
  });
});

describe('per-word rewrites', () => {
  const rewrite = (id: BlindStrategyId, word: string, seed = 1) => wordPerturber(id, mulberry32(seed))(word, mulberry32(seed + 1));

  it.each<[BlindStrategyId, string, (out: string) => boolean]>([
    ['leetspeak', 'free', (o) => /[0-9@!$|]/.test(o)],
    ['spacing', 'money', (o) => o.replace(/[^a-z]/g, '') === 'money' && o.length > 5],
    ['char-swap', 'money', (o) => o !== 'money' && [...o].sort().join('') === 'emnoy'],
    ['char-swap', 'aaaa', (o) => o === 'aaa'],
    ['char-drop', 'money', (o) => o.length === 4 && o[0] === 'm' && o[4] === undefined],
    ['char-duplicate', 'money', (o) => o.length === 6],
    ['word-split', 'money', (o) => o.includes(' ') && o.replace(' ', '') === 'money'],
    ['case-mix', 'money', (o) => o !== 'money' && o.toLowerCase() === 'money'],
    ['lexicon', 'money', (o) => LEXICON.get('money')!.includes(o)],
    ['lexicon', 'Money', (o) => /^[A-Z]/.test(o)],
    ['lexicon', 'MONEY', (o) => o === o.toUpperCase()],
    ['lexicon', 'meeting', (o) => o !== 'meeting' && o.length >= 7],
    ['lexicon', 'constructor', (o) => typeof o === 'string' && o !== 'constructor'],
  ])('%s(%s)', (id, word, ok) => {
    for (const seed of SEEDS) expect(ok(rewrite(id, word, seed)), rewrite(id, word, seed)).toBe(true);
  });

  it('lexicon attacks the trigger words first', () => {
    const variant = STRATEGIES.lexicon('please click the link for free money today', mulberry32(2), { intensity: 0.4 });
    const words = splitWords(variant).words;
    expect(words).not.toContain('click');
    expect(words).not.toContain('money');
  });

  it('a random chain has 2–3 distinct steps, lexicon first, never itself', () => {
    for (let seed = 0; seed < 100; seed++) {
      const steps = randomChain(mulberry32(seed));
      expect(steps.length).toBeGreaterThanOrEqual(2);
      expect(steps.length).toBeLessThanOrEqual(3);
      expect(new Set(steps).size).toBe(steps.length);
      expect(steps).not.toContain('chain');
      if (steps.includes('lexicon')) expect(steps[0]).toBe('lexicon');
    }
  });

  it('chainOf applies its steps in order to the same words', () => {
    const variant = chainOf(['lexicon', 'invisible'])('free money', mulberry32(4), { intensity: 1 });
    const visible = [...variant].filter((ch) => !INVISIBLES.includes(ch)).join('');
    expect(visible).not.toBe(variant);
    expect(visible).not.toContain('money');
  });

  it('perturbWordsAt rewrites exactly the given words', () => {
    const out = perturbWordsAt('one two three four', [1, 3], (w) => w.toUpperCase(), mulberry32(1));
    expect(out).toBe('one TWO three FOUR');
  });
});

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

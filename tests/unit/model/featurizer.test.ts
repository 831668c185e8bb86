import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FEATURIZER_SPEC,
  featurize,
  featurizeBatch,
  HARDENED_FEATURIZER_SPEC,
  normalizeText,
  type FeaturizerSpec,
  type Features,
} from '../../../src/domain/model/index.js';

/**
 * The featurizer's definition written the slow, obvious way: build every n-gram as a string,
 * encode it with TextEncoder, hash with FNV-1a, count in a Map. The fast implementation must
 * agree with it exactly.
 */
function referenceFeaturize(text: string, spec: FeaturizerSpec): Map<number, number> {
  let s = normalizeText(text, spec.normalization);
  if (s.length > spec.maxChars) {
    const last = s.charCodeAt(spec.maxChars - 1);
    s = s.slice(0, last >= 0xd800 && last < 0xdc00 ? spec.maxChars - 1 : spec.maxChars);
  }
  const tokens = s.match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
  const grams: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    for (let n = spec.wordNgrams.min; n <= spec.wordNgrams.max && n > 0 && i + n <= tokens.length; n++) {
      grams.push(`\u0001${tokens.slice(i, i + n).join(' ')}`);
    }
  }
  for (const token of tokens) {
    const chars = ['<', ...token, '>'];
    for (let i = 0; i < chars.length; i++) {
      for (let n = spec.charNgrams.min; n <= spec.charNgrams.max && n > 0 && i + n <= chars.length; n++) {
        if (n === 1 && (chars[i] === '<' || chars[i] === '>')) continue;
        grams.push(`\u0002${chars.slice(i, i + n).join('')}`);
      }
    }
  }
  const counts = new Map<number, number>();
  for (const g of grams) {
    const id = fnv1a(new TextEncoder().encode(g)) % spec.buckets;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

/** Integer counts back from weights, given the total number of n-grams. */
const countsOf = (f: Features, total: number): Map<number, number> =>
  new Map(Array.from(f.ids, (id, i) => [id, Math.round(f.weights[i]! * total)]));
const totalOf = (counts: Map<number, number>): number => [...counts.values()].reduce((a, b) => a + b, 0);

const NONE = { nfkc: false, lowercase: false, foldConfusables: false, stripInvisible: false, joinSpacedLetters: false };
const small = (changes: Partial<FeaturizerSpec> = {}): FeaturizerSpec => ({ ...DEFAULT_FEATURIZER_SPEC, buckets: 2 ** 12, ...changes });

const TEXTS = [
  'Hello world',
  'FREE money!!! Click here: http://example.com/win?x=1 now',
  'the the the the the',
  'Ϝrее ｍｏｎｅｙ f r e e  c a s h 𝐟𝐫𝐞𝐞',
  'Привет мир, καλημέρα κόσμε, 你好世界, こんにちは, مرحبا بالعالم',
  'emoji 😀👍🏽 and astral 𝐀𝐁𝐂 letters, e\u0301 decomposed',
  'a',
  '12345 678',
];

describe('featurize', () => {
  it.each(TEXTS)('matches the reference definition: %j', (text) => {
    for (const spec of [DEFAULT_FEATURIZER_SPEC, HARDENED_FEATURIZER_SPEC, small({ wordNgrams: { min: 1, max: 3 }, charNgrams: { min: 1, max: 6 } })]) {
      const expected = referenceFeaturize(text, spec);
      expect(countsOf(featurize(text, spec), totalOf(expected))).toEqual(expected);
    }
  });

  it('also matches with the largest bucket count', () => {
    const spec = small({ buckets: 2 ** 24 });
    for (const text of [...TEXTS, TEXTS.join(' ').repeat(40)]) {
      const expected = referenceFeaturize(text, spec);
      expect(countsOf(featurize(text, spec), totalOf(expected))).toEqual(expected);
    }
  });

  it('is deterministic, including across interleaved calls with other specs', () => {
    const first = TEXTS.map((t) => featurize(t, DEFAULT_FEATURIZER_SPEC));
    TEXTS.forEach((t) => featurize(t, small({ buckets: 2 ** 24 })));
    const again = TEXTS.map((t) => featurize(t, DEFAULT_FEATURIZER_SPEC));
    expect(again).toEqual(first);
  });

  it('pins the hash: known ids never change without a spec version bump', () => {
    const f = featurize('Hi', DEFAULT_FEATURIZER_SPEC);
    // "hi" → word "\x01hi"; char n-grams "\x02<hi", "\x02hi>", "\x02<hi>".
    const expected = ['\u0001hi', '\u0002<hi', '\u0002<hi>', '\u0002hi>'].map((g) => fnv1a(new TextEncoder().encode(g)) % 2 ** 20);
    expect([...f.ids].sort()).toEqual(expected.sort());
    expect([...f.weights]).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(Array.from(f.ids)).toMatchInlineSnapshot(`
      [
        243295,
        556672,
        1017114,
        1032108,
      ]
    `);
  });

  it('gives a word and the identical character n-gram different ids by construction', () => {
    // Unigram "abc" vs the char trigram "abc" inside "xabcx": same characters, different prefix byte.
    const spec = small({ buckets: 2 ** 20, wordNgrams: { min: 1, max: 1 }, charNgrams: { min: 3, max: 3 } });
    const word = featurize('abc', { ...spec, charNgrams: { min: 0, max: 0 } }).ids;
    const chars = featurize('xabcx', { ...spec, wordNgrams: { min: 0, max: 0 } }).ids;
    expect(word).toHaveLength(1);
    expect(chars).toHaveLength(5); // <xa xab abc bcx cx>
    expect(chars).not.toContain(word[0]);
    expect(word[0]).toBe(fnv1a(new TextEncoder().encode('\u0001abc')) % 2 ** 20);
    expect(chars[2]).toBe(fnv1a(new TextEncoder().encode('\u0002abc')) % 2 ** 20);
  });

  it('merges repeated n-grams into counts, and weights sum to 1', () => {
    const f = featurize('spam spam spam eggs', small());
    expect(new Set(f.ids).size).toBe(f.ids.length);
    const sum = f.weights.reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 6);
    for (const text of TEXTS) expect(featurize(text, DEFAULT_FEATURIZER_SPEC).weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // "spam" occurs three times: its unigram weight is 3 / total.
    const spam = fnv1a(new TextEncoder().encode('\u0001spam')) % 2 ** 12;
    const total = referenceFeaturize('spam spam spam eggs', small());
    const n = [...total.values()].reduce((a, b) => a + b, 0);
    expect(f.weights[f.ids.indexOf(spam)]).toBeCloseTo(total.get(spam)! / n, 7);
  });

  it.each(['', '   ', '!!! ... ???', '\u200b\u200b'])('yields empty arrays for a text without letters or digits: %j', (text) => {
    const f = featurize(text, HARDENED_FEATURIZER_SPEC);
    expect(f.ids).toEqual(new Int32Array(0));
    expect(f.weights).toEqual(new Float32Array(0));
  });

  it('cuts the normalized text after maxChars, never inside a surrogate pair', () => {
    const spec = small({ maxChars: 5 });
    expect(featurize('abcde fghij', spec)).toEqual(featurize('abcde', spec));
    // 'abcd' + U+20000 (a CJK letter, 2 code units): the cut at 5 would split the pair, so it goes whole.
    expect(featurize('abcd\u{20000}xyz', spec)).toEqual(featurize('abcd', spec));
    expect(featurize('abc\u{20000}xyz', spec)).toEqual(featurize('abc\u{20000}', spec));
    // The cut applies to the normalized text: NFKC turns the math bold 𝐀 into one code unit.
    expect(featurize('abcd\u{1d400}xyz', spec)).toEqual(featurize('abcda', spec));
    expect(featurize('x'.repeat(10_000), DEFAULT_FEATURIZER_SPEC)).toEqual(featurize('x'.repeat(4000), DEFAULT_FEATURIZER_SPEC));
  });

  it('bounds the cost of huge texts without changing the kept prefix', () => {
    const body = 'Ϝrее ｍｏｎｅｙ, f r e e  c a s h! Привет мир. '.repeat(5000); // 200k code units
    for (const spec of [DEFAULT_FEATURIZER_SPEC, HARDENED_FEATURIZER_SPEC]) {
      const full = normalizeText(body, spec.normalization);
      expect(featurize(body, spec)).toEqual(featurize(full.slice(0, spec.maxChars), { ...spec, normalization: NONE }));
    }
    // Invisible padding is removed before the cut, so a payload behind a million of them still counts.
    const padded = '\u200b'.repeat(1_000_000) + 'buy cheap pills';
    const started = performance.now();
    expect(featurize(padded, HARDENED_FEATURIZER_SPEC)).toEqual(featurize('buy cheap pills', HARDENED_FEATURIZER_SPEC));
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('makes evasions featurize like the plain text under the hardened spec only', () => {
    const plain = featurize('free money', HARDENED_FEATURIZER_SPEC);
    for (const evasion of ['Ϝrее ｍοnеy', 'f r e e  m o n e y', 'fr\u200bee mo\u00adney']) {
      expect(featurize(evasion, HARDENED_FEATURIZER_SPEC)).toEqual(plain);
      expect(featurize(evasion, DEFAULT_FEATURIZER_SPEC)).not.toEqual(featurize('free money', DEFAULT_FEATURIZER_SPEC));
    }
    // NFKC, on in both specs, already undoes compatibility forms.
    expect(featurize('𝐅𝐑𝐄𝐄 ＭＯＮＥＹ', DEFAULT_FEATURIZER_SPEC)).toEqual(featurize('free money', DEFAULT_FEATURIZER_SPEC));
  });
});

describe('featurizeBatch', () => {
  it('pads rows to the longest with id 0 and weight 0, int64 by default', () => {
    const texts = ['hi', '', 'hello there world', 'x'];
    const rows = texts.map((t) => featurize(t, DEFAULT_FEATURIZER_SPEC));
    const batch = featurizeBatch(texts, DEFAULT_FEATURIZER_SPEC);
    expect(batch.batch).toBe(4);
    expect(batch.length).toBe(Math.max(...rows.map((r) => r.ids.length)));
    expect(batch.ids).toBeInstanceOf(BigInt64Array);
    expect(batch.ids).toHaveLength(batch.batch * batch.length);
    expect(batch.weights).toHaveLength(batch.batch * batch.length);
    rows.forEach((row, b) => {
      for (let i = 0; i < batch.length; i++) {
        const at = b * batch.length + i;
        expect(batch.ids[at]).toBe(i < row.ids.length ? BigInt(row.ids[i]!) : 0n);
        expect(batch.weights[at]).toBe(i < row.ids.length ? row.weights[i] : 0);
      }
    });
  });

  it('can produce int32 ids with the same layout', () => {
    const texts = ['one two', 'three'];
    const a = featurizeBatch(texts, DEFAULT_FEATURIZER_SPEC);
    const b = featurizeBatch(texts, DEFAULT_FEATURIZER_SPEC, { idType: 'int32' });
    expect(b.ids).toBeInstanceOf(Int32Array);
    expect(Array.from(b.ids, BigInt)).toEqual(Array.from(a.ids));
    expect(b.weights).toEqual(a.weights);
  });

  it('keeps at least one column, so an all-empty batch is still a valid tensor', () => {
    expect(featurizeBatch(['', '...'], DEFAULT_FEATURIZER_SPEC)).toEqual({
      ids: new BigInt64Array(2),
      weights: new Float32Array(2),
      batch: 2,
      length: 1,
    });
    expect(featurizeBatch([], DEFAULT_FEATURIZER_SPEC).batch).toBe(0);
  });
});

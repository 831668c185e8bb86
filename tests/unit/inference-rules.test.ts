import { describe, expect, it } from 'vitest';
import { argmax, checkText, checkTexts, toClassification } from '../../src/domain/index.js';
import { LruResultCache } from '../../src/inference/result-cache.js';

describe('checkTexts', () => {
  const limits = { maxTexts: 3, maxTextLength: 10 };

  it('accepts up to the limits', () => {
    expect(checkTexts(['a', 'bb', 'x'.repeat(10)], limits)).toBeUndefined();
  });

  it('names the first bad text by position', () => {
    expect(checkTexts([], limits)).toEqual({ field: 'texts', message: 'texts must hold at least one text.' });
    expect(checkTexts(['a', 'b', 'c', 'd'], limits)?.message).toMatch(/^4 texts in one call; the limit is 3\./);
    expect(checkTexts(['ok', ' \n\t '], limits)).toEqual({ field: 'texts[1]', message: 'text 1: is empty; there is nothing to classify.' });
    expect(checkTexts(['x'.repeat(11)], limits)).toEqual({ field: 'texts[0]', message: 'text 0: is 11 characters; the limit is 10.' });
    expect(checkText('fine', 10)).toBeUndefined();
  });
});

describe('toClassification', () => {
  it('picks the most probable label, the first on a tie, and keeps label order', () => {
    expect(toClassification(new Float32Array([0.2, 0.5, 0.3]), ['a', 'b', 'c'])).toEqual({
      label: 'b',
      score: 0.5,
      scores: [
        { label: 'a', score: expect.closeTo(0.2, 6) },
        { label: 'b', score: 0.5 },
        { label: 'c', score: expect.closeTo(0.3, 6) },
      ],
    });
    expect(toClassification([0.5, 0.5], ['x', 'y']).label).toBe('x');
  });

  it('argmax takes the first of equal maxima', () => {
    expect(argmax([0.1, 0.7, 0.7, 0.2])).toBe(1);
    expect(argmax(new Float32Array([0.9]))).toBe(0);
  });

  it('refuses a row that does not match the labels', () => {
    expect(() => toClassification([1], ['a', 'b'])).toThrow(/1 scores for 2 labels/);
  });
});

describe('LruResultCache', () => {
  it('returns what was stored, forgets the least recently used beyond its size, and expires entries', async () => {
    const cache = new LruResultCache(2, 50);
    const a = new Float32Array([0.1, 0.9]);
    await cache.setMany([
      ['a', a],
      ['b', new Float32Array([0.5, 0.5])],
    ]);
    expect(await cache.getMany(['a', 'x'])).toEqual([a, undefined]);
    await cache.setMany([['c', new Float32Array([1, 0])]]); // evicts b: a was used more recently
    expect((await cache.getMany(['a', 'b', 'c'])).map((v) => v !== undefined)).toEqual([true, false, true]);
    await new Promise((r) => setTimeout(r, 80));
    expect(await cache.getMany(['a', 'c'])).toEqual([undefined, undefined]);
  });
});

import { describe, expect, it } from 'vitest';
import { greedyAttack, rankImportantWords, splitWords, type Scorer } from '../../../src/domain/attack/index.js';
import { mulberry32 } from '../../../src/domain/model/index.js';
import { EMAIL, PLAIN } from './fixtures.js';

/** A fake defender: harmful while the text still holds a trigger word; records every call's size. */
function fakeScorer(triggers: readonly string[], weights: readonly number[] = triggers.map(() => 0.8)) {
  const calls: number[] = [];
  const score: Scorer = async (texts) => {
    calls.push(texts.length);
    return texts.map((t) => {
      const words = new Set(splitWords(t.toLowerCase()).words);
      return Math.min(0.99, 0.05 + triggers.reduce((s, w, i) => s + (words.has(w) ? weights[i]! : 0), 0));
    });
  };
  return { score, calls, queries: () => calls.reduce((a, b) => a + b, 0) };
}

describe('rankImportantWords', () => {
  it('finds the planted trigger word, with leave-one-out over every word when the budget allows', async () => {
    const text = 'hello there friend, buy zorblax today and be happy';
    const scorer = fakeScorer(['zorblax']);
    const r = await rankImportantWords(text, scorer.score, { budget: 100 });
    expect(r.ranked[0]!.word).toBe('zorblax');
    expect(r.ranked[0]!.drop).toBeCloseTo(0.8);
    expect(r.indices[0]).toBe(splitWords(text).words.indexOf('zorblax'));
    expect(r.candidates).toBe(r.distinctWords);
    expect(r.queries).toBe(1 + r.distinctWords);
    expect(scorer.queries()).toBe(r.queries);
  });

  it('orders several triggers by their weight and groups repeated words', async () => {
    const text = 'cash cash and prizes for the lucky winner, cash now';
    const r = await rankImportantWords(text, fakeScorer(['cash', 'winner'], [0.6, 0.2]).score, { budget: 50 });
    expect(r.ranked.map((w) => w.word).slice(0, 2)).toEqual(['cash', 'winner']);
    expect(r.ranked[0]!.indices).toEqual([0, 1, 8]);
  });

  it.each([
    [1, 0],
    [5, 4],
    [20, 19],
  ])('stays within a budget of %i on a long e-mail, in batches', async (budget, candidates) => {
    const scorer = fakeScorer(['password']);
    const r = await rankImportantWords(EMAIL, scorer.score, { budget, batchSize: 8, rng: mulberry32(1) });
    expect(r.queries).toBeLessThanOrEqual(budget);
    expect(scorer.queries()).toBe(r.queries);
    expect(r.candidates).toBe(candidates);
    expect(Math.max(...scorer.calls)).toBeLessThanOrEqual(8);
    // Known trigger words are tried first when the budget cannot cover every word.
    if (budget >= 5) expect(r.ranked[0]!.word).toBe('password');
  });

  it('spends nothing with a budget of 0, and saves the first query when the score is known', async () => {
    const scorer = fakeScorer(['zorblax']);
    expect((await rankImportantWords(PLAIN, scorer.score, { budget: 0 })).queries).toBe(0);
    expect(scorer.calls).toEqual([]);
    const r = await rankImportantWords('zorblax here', scorer.score, { budget: 2, baseScore: 0.85 });
    expect(r.queries).toBe(2);
    expect(r.ranked[0]!.word).toBe('zorblax');
  });

  it('is deterministic for a seed when it samples', async () => {
    const run = async () => (await rankImportantWords(EMAIL, fakeScorer(['password']).score, { budget: 30, rng: mulberry32(7) })).ranked;
    expect(await run()).toEqual(await run());
  });
});

describe('greedyAttack', () => {
  it('perturbs the top word and stops as soon as the score is below the threshold', async () => {
    const text = 'hello there friend, buy zorblax today and be happy';
    const scorer = fakeScorer(['zorblax']);
    const r = await greedyAttack(text, scorer.score, mulberry32(3), { budget: 30, threshold: 0.5, base: 'char-drop' });
    expect(r.evaded).toBe(true);
    expect(r.score).toBeLessThan(0.5);
    expect(r.perturbed).toEqual([splitWords(text).words.indexOf('zorblax')]);
    expect(r.variant).not.toContain('zorblax');
    expect(r.queries).toBe(scorer.queries());
    expect(r.queries).toBeLessThanOrEqual(30);
  });

  it('needs several words when several triggers each keep the score up', async () => {
    // 0.05 + 3 × 0.3: two perturbed triggers still leave 0.35, above the threshold.
    const scorer = fakeScorer(['free', 'money', 'click'], [0.3, 0.3, 0.3]);
    const r = await greedyAttack('click for free money now', scorer.score, mulberry32(3), { budget: 40, threshold: 0.3, base: 'homoglyphs' });
    expect(r.evaded).toBe(true);
    expect(r.perturbed.length).toBe(3);
  });

  it.each([1, 2, 7, 25])('never spends more than a budget of %i', async (budget) => {
    const scorer = fakeScorer(['nothing-removes-this'], [0]);
    const stubborn: Scorer = async (texts) => (await scorer.score(texts)).map(() => 0.9);
    const r = await greedyAttack(EMAIL, stubborn, mulberry32(1), { budget, threshold: 0.5 });
    expect(r.queries).toBeLessThanOrEqual(budget);
    expect(scorer.queries()).toBe(r.queries);
    expect(r.evaded).toBe(false);
    expect(r.variant).not.toBe(EMAIL);
  });

  it('scores several steps per call with stepBatch and keeps the first that evades', async () => {
    const scorer = fakeScorer(['free', 'money', 'click'], [0.3, 0.3, 0.3]);
    const r = await greedyAttack('click for free money now', scorer.score, mulberry32(3), { budget: 40, threshold: 0.3, stepBatch: 4 });
    expect(r.evaded).toBe(true);
    expect(r.perturbed.length).toBe(3);
    // Ranking: the text, then its 5 words in one call; then the first 4 steps in one call (the 3rd evades).
    expect(scorer.calls).toEqual([1, 5, 4]);
    expect(r.queries).toBe(10);
  });

  it('is deterministic for a seed', async () => {
    const run = () => greedyAttack(EMAIL, fakeScorer(['password', 'money']).score, mulberry32(11), { budget: 40, threshold: 0.3 });
    expect(await run()).toEqual(await run());
  });
});

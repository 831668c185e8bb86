import { describe, expect, it } from 'vitest';
import { Bandit, sampleBeta, type BanditAlgorithm } from '../../../src/domain/attack/index.js';
import { mulberry32 } from '../../../src/domain/model/index.js';

const ARMS = ['a', 'b', 'c', 'd'];
const EVADE = { a: 0.05, b: 0.2, c: 0.6, d: 0.3 } as Record<string, number>;

/** Plays `steps` pulls, `batch` choices before their updates; returns the share of the last quarter on arm c. */
function play(algorithm: BanditAlgorithm, steps: number, batch: number, seed: number): number {
  const bandit = Bandit.create(ARMS, algorithm);
  const rng = mulberry32(seed);
  const env = mulberry32(seed + 1000);
  let best = 0;
  for (let t = 0; t < steps; t += batch) {
    const chosen = Array.from({ length: batch }, () => bandit.choose(rng));
    for (const arm of chosen) bandit.update(arm, env() < EVADE[arm]!);
    if (t >= (steps * 3) / 4) best += chosen.filter((a) => a === 'c').length;
  }
  return best / (steps / 4);
}

describe('Bandit', () => {
  it.each<[BanditAlgorithm, number]>([
    ['thompson', 1],
    ['thompson', 50],
    ['ucb1', 1],
    ['ucb1', 50],
  ])('%s converges to the best arm (batches of %i)', (algorithm, batch) => {
    for (const seed of [1, 2, 3]) expect(play(algorithm, 4000, batch, seed)).toBeGreaterThan(0.7);
  });

  it('uniform plays every arm about equally', () => {
    const share = play('uniform', 4000, 10, 1);
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.3);
  });

  it.each<BanditAlgorithm>(['thompson', 'ucb1', 'uniform'])('%s state survives JSON: a restored bandit plays on identically', (algorithm) => {
    const a = Bandit.create(ARMS, algorithm);
    const rng = mulberry32(5);
    for (let i = 0; i < 100; i++) a.update(a.choose(rng), rng() < 0.4);
    const b = Bandit.fromState(JSON.parse(JSON.stringify(a)));
    expect(b.state()).toEqual(a.state());
    const ra = mulberry32(9);
    const rb = mulberry32(9);
    for (let i = 0; i < 50; i++) {
      const x = a.choose(ra);
      expect(b.choose(rb)).toBe(x);
      a.update(x, i % 3 === 0);
      b.update(x, i % 3 === 0);
    }
  });

  it('counts evasions, failures and pending choices', () => {
    const bandit = Bandit.create(['x', 'y'], 'thompson');
    bandit.choose(mulberry32(1));
    bandit.update('x', true);
    bandit.update('x', false);
    bandit.update('y', true);
    const arms = bandit.state().arms;
    expect(arms.map((a) => [a.id, a.evasions, a.failures])).toEqual([
      ['x', 1, 1],
      ['y', 1, 0],
    ]);
    expect(arms.reduce((s, a) => s + a.pending, 0)).toBe(0);
    expect(() => bandit.update('z', true)).toThrow(/unknown arm/);
    expect(() => Bandit.create([])).toThrow();
    expect(() => Bandit.create(['x', 'x'])).toThrow(/twice/);
  });

  it.each([
    [1, 1],
    [3, 7],
    [50, 10],
  ])('Beta(%i, %i) draws have the right mean', (alpha, beta) => {
    const rng = mulberry32(1);
    let sum = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = sampleBeta(rng, alpha, beta);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
      sum += x;
    }
    expect(sum / n).toBeCloseTo(alpha / (alpha + beta), 2);
  });
});

import { describe, expect, it } from 'vitest';
import {
  BattleConfigError,
  BattleEngine,
  validateBattleConfig,
  type BattleConfig,
  type BattleConfigInput,
  type BattleRound,
  type BattleState,
  type Defend,
} from '../../../src/domain/attack/index.js';
import { EMAIL, PLAIN, SPAM, TOXIC } from './fixtures.js';

const SEEDS = [
  { text: SPAM, split: 'train' },
  { text: TOXIC, split: 'test' },
  { text: 'buy cheap viagra and cialis online', split: 'train' },
  { text: EMAIL, split: 'test' },
  { text: 'free money, click now', split: 'train' },
] as const;

function config(overrides: BattleConfigInput = {}): BattleConfig {
  const r = validateBattleConfig({ rounds: 300, seeds: SEEDS, batchSize: 32, seed: 7, ...overrides });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

const TRIGGERS = /\b(free|money|click|winner|viagra|cialis|stupid|idiot|hate|password|cheap|prize)\b/i;

/**
 * A fake defender that sees only exact trigger words in ASCII: homoglyphs, invisible characters
 * and any rewrite of the trigger words get through. It records each call's size.
 */
function fakeDefender() {
  const calls: number[] = [];
  const defend: Defend = async (texts) => {
    calls.push(texts.length);
    return texts.map((t) => {
      const harmfulScore = TRIGGERS.test(t) ? 0.9 : 0.1;
      return { harmfulScore, detected: harmfulScore >= 0.5 };
    });
  };
  return { defend, calls };
}

async function playAll(engine: BattleEngine, defend: Defend, state?: BattleState) {
  const rounds: BattleRound[] = [];
  let last: BattleState = state ?? engine.initialState();
  for await (const batch of engine.run(defend, state)) {
    rounds.push(...batch.rounds);
    last = batch.state;
  }
  return { rounds, state: last };
}

describe('BattleEngine', () => {
  it('plays every round once, in order, in batches of batchSize', async () => {
    const { defend, calls } = fakeDefender();
    const { rounds, state } = await playAll(new BattleEngine(config()), defend);
    expect(rounds.map((r) => r.index)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(calls).toEqual([...Array.from({ length: 9 }, () => 32), 12]);
    expect(state.nextRound).toBe(300);
    expect(rounds.every((r) => r.queries === 1 && r.variant !== r.original)).toBe(true);
  });

  it('same seed, same rounds; another seed, other rounds', async () => {
    const a = await playAll(new BattleEngine(config()), fakeDefender().defend);
    const b = await playAll(new BattleEngine(config()), fakeDefender().defend);
    expect(b).toEqual(a);
    const c = await playAll(new BattleEngine(config({ seed: 8 })), fakeDefender().defend);
    expect(c.rounds.map((r) => r.variant)).not.toEqual(a.rounds.map((r) => r.variant));
  });

  it.each([0, 1, 4, 9])('resumes from the state after batch %i (through JSON, in a new engine) exactly', async (after) => {
    const whole = await playAll(new BattleEngine(config({ queryBudget: 12 })), fakeDefender().defend);
    const first = new BattleEngine(config({ queryBudget: 12 }));
    const rounds: BattleRound[] = [];
    let state = first.initialState();
    for (let b = 0; b < after; b++) {
      const batch = await first.runBatch(state, fakeDefender().defend);
      rounds.push(...batch.rounds);
      state = batch.state;
    }
    const saved = JSON.parse(JSON.stringify(state)) as BattleState;
    const rest = await playAll(new BattleEngine(config({ queryBudget: 12 })), fakeDefender().defend, saved);
    expect([...rounds, ...rest.rounds]).toEqual(whole.rounds);
    expect(rest.state).toEqual(whole.state);
  });

  it('keeps correct stats', async () => {
    const { rounds, state } = await playAll(new BattleEngine(config({ queryBudget: 10, keepEvadedTrain: 5 })), fakeDefender().defend);
    const { stats } = state;
    const evaded = rounds.filter((r) => !r.detected);
    expect(stats.rounds).toBe(300);
    expect(stats.evasions).toBe(evaded.length);
    expect(stats.detections).toBe(300 - evaded.length);
    expect(stats.evasionRate).toBeCloseTo(evaded.length / 300);
    expect(stats.queries).toBe(rounds.reduce((s, r) => s + r.queries, 0));
    for (const [strategy, s] of Object.entries(stats.byStrategy)) {
      const mine = rounds.filter((r) => r.strategy === strategy);
      expect(s).toEqual({ attempts: mine.length, evasions: mine.filter((r) => !r.detected).length, rate: mine.filter((r) => !r.detected).length / mine.length });
    }
    for (const split of ['train', 'test'] as const) {
      const mine = rounds.filter((r) => r.split === split);
      expect(stats.bySplit[split].attempts).toBe(mine.length);
      expect(stats.bySplit[split].evasions).toBe(mine.filter((r) => !r.detected).length);
    }
    expect(stats.testEvasionRate).toBe(stats.bySplit.test.rate);
    const trainEvaded = evaded.filter((r) => r.split === 'train');
    expect(stats.evadedTrainCount).toBe(trainEvaded.length);
    expect(stats.evadedTrain).toEqual(
      trainEvaded.slice(0, 5).map((r) => ({ round: r.index, seedIndex: r.seedIndex, strategy: r.strategy, text: r.variant, score: r.score })),
    );
    for (const r of rounds) {
      expect(r.original).toBe(SEEDS[r.seedIndex]!.text);
      expect(r.split).toBe(SEEDS[r.seedIndex]!.split);
    }
  });

  it('hands out each batch’s evaded train-seed variants', async () => {
    const engine = new BattleEngine(config());
    const batch = await engine.runBatch(engine.initialState(), fakeDefender().defend);
    expect(batch.evadedTrain.map((s) => s.round)).toEqual(batch.rounds.filter((r) => !r.detected && r.split === 'train').map((r) => r.index));
    expect(batch.done).toBe(false);
  });

  it('round-robin visits the seeds in order; shuffle visits each once per pass', async () => {
    const rr = await playAll(new BattleEngine(config({ seedOrder: 'round-robin', rounds: 20 })), fakeDefender().defend);
    expect(rr.rounds.map((r) => r.seedIndex)).toEqual(Array.from({ length: 20 }, (_, i) => i % 5));
    const sh = await playAll(new BattleEngine(config({ rounds: 20 })), fakeDefender().defend);
    const passes = [0, 5, 10, 15].map((p) => sh.rounds.slice(p, p + 5).map((r) => r.seedIndex));
    for (const pass of passes) expect([...pass].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(passes.map((p) => p.join())).size).toBeGreaterThan(1);
  });

  it('plays only the pinned strategies', async () => {
    const { rounds } = await playAll(new BattleEngine(config({ strategies: ['lexicon', 'invisible'] })), fakeDefender().defend);
    expect(new Set(rounds.map((r) => r.strategy))).toEqual(new Set(['lexicon', 'invisible']));
  });

  it('adapts: strategies that evade get played more, and the battle evades more than a uniform one', async () => {
    // The fake defender sees trigger words; the lexicon strategy rewrites trigger words first, so
    // it evades most; a case-insensitive defender never misses case-mix.
    const adaptive = await playAll(new BattleEngine(config({ rounds: 2000, batchSize: 64 })), fakeDefender().defend);
    const s = adaptive.state.stats.byStrategy;
    expect(s['case-mix']!.rate).toBe(0);
    expect(s.lexicon!.attempts).toBeGreaterThan(1000);
    expect(s.lexicon!.attempts).toBeGreaterThan(10 * s['case-mix']!.attempts);
    const everything = adaptive.state.bandit.arms.map((a) => a.id) as BattleConfig['strategies'];
    const uniform = await playAll(new BattleEngine(config({ rounds: 2000, batchSize: 64, strategies: everything })), fakeDefender().defend);
    expect(adaptive.state.stats.evasionRate).toBeGreaterThan(2 * uniform.state.stats.evasionRate);
  });

  it('query-based rounds spend at most the budget (+1 when the final variant needed scoring)', async () => {
    const { defend, calls } = fakeDefender();
    const { rounds } = await playAll(new BattleEngine(config({ strategies: ['greedy'], queryBudget: 6, rounds: 40 })), defend);
    expect(rounds.every((r) => r.strategy === 'greedy' && r.queries >= 1 && r.queries <= 7)).toBe(true);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(rounds.reduce((s, r) => s + r.queries, 0));
    expect(rounds.some((r) => !r.detected)).toBe(true);
  });

  it('refuses a bad config, a foreign state and a defender that answers the wrong number', async () => {
    expect(() => new BattleEngine({ ...config(), rounds: 0 })).toThrow(BattleConfigError);
    const engine = new BattleEngine(config());
    const other = new BattleEngine(config({ strategies: ['lexicon'] }));
    await expect(engine.runBatch(other.initialState(), fakeDefender().defend)).rejects.toThrow(/does not belong/);
    await expect(engine.runBatch(engine.initialState(), async () => [])).rejects.toThrow(/0 results for 32/);
  });

  it('a state is plain JSON', async () => {
    const engine = new BattleEngine(config({ seeds: [{ text: PLAIN, split: 'train' }] }));
    const { state } = await engine.runBatch(engine.initialState(), fakeDefender().defend);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_BATTLE_SETTINGS, STRATEGY_IDS, battleArms, validateBattleConfig, type BattleConfigInput } from '../../../src/domain/attack/index.js';

const VALID: BattleConfigInput = { rounds: 100, seeds: [{ text: 'free money', split: 'train' }] };

describe('validateBattleConfig', () => {
  it('fills the defaults', () => {
    const r = validateBattleConfig(VALID);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({ ...DEFAULT_BATTLE_SETTINGS, rounds: 100 });
  });

  it.each<[string, BattleConfigInput, string, RegExp]>([
    ['rounds 0', { ...VALID, rounds: 0 }, 'rounds', /1 to 1,000,000/],
    ['rounds too many', { ...VALID, rounds: 1_000_001 }, 'rounds', /1 to 1,000,000/],
    ['rounds fractional', { ...VALID, rounds: 2.5 }, 'rounds', /integer/],
    ['rounds missing', { seeds: VALID.seeds }, 'rounds', /got undefined/],
    ['unknown strategy', { ...VALID, strategies: ['leetspeak', 'rot13'] }, 'strategies[1]', /unknown strategy "rot13"; known: leetspeak, homoglyphs, .*greedy/],
    ['strategy twice', { ...VALID, strategies: ['leetspeak', 'leetspeak'] }, 'strategies[1]', /twice/],
    ['no strategies', { ...VALID, strategies: [] }, 'strategies', /at least one/],
    ['strategies not a list', { ...VALID, strategies: 'all' }, 'strategies', /adaptive/],
    ['greedy without budget', { ...VALID, strategies: ['greedy'], queryBudget: 0 }, 'queryBudget', /at least 1/],
    ['no seeds', { ...VALID, seeds: [] }, 'seeds', /at least one/],
    ['seeds missing', { rounds: 1 }, 'seeds', /list/],
    ['blank seed', { ...VALID, seeds: [{ text: '  ', split: 'train' }] }, 'seeds[0].text', /non-empty/],
    ['bad split', { ...VALID, seeds: [{ text: 'x', split: 'validation' }] }, 'seeds[0].split', /"train" or "test"/],
    ['threshold 0', { ...VALID, threshold: 0 }, 'threshold', /strictly between 0 and 1/],
    ['threshold 1', { ...VALID, threshold: 1 }, 'threshold', /strictly between 0 and 1/],
    ['threshold NaN', { ...VALID, threshold: Number.NaN }, 'threshold', /strictly between/],
    ['budget negative', { ...VALID, queryBudget: -1 }, 'queryBudget', /0 to 1,000/],
    ['budget too big', { ...VALID, queryBudget: 1001 }, 'queryBudget', /0 to 1,000/],
    ['intensity', { ...VALID, intensity: 1.5 }, 'intensity', /0 to 1/],
    ['seed order', { ...VALID, seedOrder: 'random' }, 'seedOrder', /round-robin/],
    ['bandit', { ...VALID, bandit: 'epsilon' }, 'bandit', /thompson/],
    ['greedy base', { ...VALID, greedyBase: 'greedy' }, 'greedyBase', /blind/],
    ['batch size', { ...VALID, batchSize: 0 }, 'batchSize', /1 to 4,096/],
  ])('%s', (_name, input, field, message) => {
    const r = validateBattleConfig(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const p = r.problems.find((x) => x.field === field);
    expect(p, JSON.stringify(r.problems)).toBeDefined();
    expect(p!.message).toMatch(message);
  });

  it('lists every problem at once', () => {
    const r = validateBattleConfig({ rounds: 0, strategies: ['nope'], seeds: [], threshold: 2, queryBudget: 5000 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.field).sort()).toEqual(['queryBudget', 'rounds', 'seeds', 'strategies[0]', 'threshold']);
  });

  it('reports many bad seeds briefly', () => {
    const seeds = Array.from({ length: 50 }, () => ({ text: '', split: 'train' }));
    const r = validateBattleConfig({ ...VALID, seeds });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(11);
    expect(r.problems.at(-1)!.message).toMatch(/40 more/);
  });
});

describe('battleArms', () => {
  it.each<[string, Parameters<typeof battleArms>[0], readonly string[]]>([
    ['adaptive without budget or LLM: no greedy, no paraphrase', { strategies: 'adaptive', queryBudget: 0 }, STRATEGY_IDS.filter((s) => s !== 'greedy' && s !== 'llm-paraphrase')],
    ['adaptive with budget, no LLM: no paraphrase', { strategies: 'adaptive', queryBudget: 10 }, STRATEGY_IDS.filter((s) => s !== 'llm-paraphrase')],
    ['adaptive with budget and LLM: everything', { strategies: 'adaptive', queryBudget: 10, paraphrase: true }, STRATEGY_IDS],
    ['pinned', { strategies: ['lexicon', 'homoglyphs'], queryBudget: 0 }, ['lexicon', 'homoglyphs']],
  ])('%s', (_name, config, arms) => {
    expect(battleArms(config)).toEqual(arms);
  });
});

/**
 * A battle's configuration and its validation: every problem at once, each with the field it is
 * about and a message a person can act on, so a bad battle is refused at createBattle rather than
 * failing in a worker.
 */
import { isSplit, type Split } from '../dataset/normalize.js';
import { BANDIT_ALGORITHMS } from './bandit.js';
import { STRATEGY_IDS, isBlindStrategyId, isStrategyId, type StrategyId } from './catalogue.js';
import { BLIND_STRATEGY_IDS, DEFAULT_INTENSITY, type BlindStrategyId } from './strategies.js';

export interface SeedText {
  readonly text: string;
  /** The dataset split the text came from: evasions of train seeds feed retraining, test seeds measure. */
  readonly split: Split;
}

export type SeedOrder = 'round-robin' | 'shuffle';
export type AdaptiveAlgorithm = 'thompson' | 'ucb1';

export interface BattleConfig {
  readonly rounds: number;
  /** Pinned strategies (chosen uniformly at random per round) or 'adaptive' (a bandit over all of them). */
  readonly strategies: readonly StrategyId[] | 'adaptive';
  readonly seeds: readonly SeedText[];
  /** Whether a language model is at hand: 'adaptive' then includes llm-paraphrase. */
  readonly paraphrase: boolean;
  /** Harmful-score threshold, in (0, 1), the query-based attack tries to get under. */
  readonly threshold: number;
  /** Same seed + same config → same rounds. */
  readonly seed: number;
  /** Defender queries one query-based round may spend crafting its variant (0: no query-based strategy). */
  readonly queryBudget: number;
  readonly seedOrder: SeedOrder;
  readonly bandit: AdaptiveAlgorithm;
  /** Share of a text's words the blind strategies perturb, 0..1. */
  readonly intensity: number;
  /** Rounds per defender call (and per saved state). */
  readonly batchSize: number;
  /** The blind strategy the greedy attack perturbs its chosen words with. */
  readonly greedyBase: BlindStrategyId;
  /** How many evaded train-seed variants the stats keep (all of them come out with each batch). */
  readonly keepEvadedTrain: number;
}

export type BattleConfigInput = { readonly [K in keyof BattleConfig]?: unknown };

export const BATTLE_LIMITS = Object.freeze({
  rounds: { min: 1, max: 1_000_000 },
  queryBudget: { min: 0, max: 1000 },
  batchSize: { min: 1, max: 4096 },
  seed: { min: 0, max: 2 ** 32 - 1 },
  keepEvadedTrain: { min: 0, max: 100_000 },
  seeds: { max: 1_000_000 },
  /** Longer texts are cut by the featurizer anyway (maxChars); past this a seed is a mistake. */
  seedTextLength: { max: 1_000_000 },
});

export const DEFAULT_BATTLE_SETTINGS = Object.freeze({
  strategies: 'adaptive' as const,
  threshold: 0.5,
  seed: 1,
  queryBudget: 0,
  seedOrder: 'shuffle' as SeedOrder,
  bandit: 'thompson' as AdaptiveAlgorithm,
  intensity: DEFAULT_INTENSITY,
  batchSize: 256,
  greedyBase: 'homoglyphs' as BlindStrategyId,
  keepEvadedTrain: 1000,
});

export interface BattleProblem {
  /** A path into the battle input: `rounds`, `strategies[2]`, `seeds[7].split`. */
  readonly field: string;
  readonly message: string;
}

export type BattleConfigCheck = { readonly ok: true; readonly config: BattleConfig } | { readonly ok: false; readonly problems: readonly BattleProblem[] };

export class BattleConfigError extends Error {
  constructor(readonly problems: readonly BattleProblem[]) {
    super(`Invalid battle config:\n${problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n')}`);
    this.name = 'BattleConfigError';
  }
}

/** Bad seeds reported one by one up to this many, then counted. */
const MAX_SEED_PROBLEMS = 10;

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v)));
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Fills defaults and checks everything; `ok: false` lists every problem. */
export function validateBattleConfig(input: BattleConfigInput): BattleConfigCheck {
  const problems: BattleProblem[] = [];
  const d = DEFAULT_BATTLE_SETTINGS;
  const problem = (field: string, message: string) => problems.push({ field, message });
  const integer = (field: keyof typeof BATTLE_LIMITS & keyof BattleConfig, value: unknown, hint = '') => {
    const { min, max } = BATTLE_LIMITS[field] as { min: number; max: number };
    if (!isInt(value) || value < min || value > max) problem(field, `must be an integer from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}${hint}; got ${show(value)}`);
  };

  const rounds = input.rounds;
  integer('rounds', rounds);
  const queryBudget = input.queryBudget ?? d.queryBudget;
  integer('queryBudget', queryBudget, ' (defender queries per query-based round)');
  const seed = input.seed ?? d.seed;
  integer('seed', seed);
  const batchSize = input.batchSize ?? d.batchSize;
  integer('batchSize', batchSize);
  const keepEvadedTrain = input.keepEvadedTrain ?? d.keepEvadedTrain;
  integer('keepEvadedTrain', keepEvadedTrain);

  const threshold = input.threshold ?? d.threshold;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) problem('threshold', `must be a number strictly between 0 and 1; got ${show(threshold)}`);
  const intensity = input.intensity ?? d.intensity;
  if (typeof intensity !== 'number' || !(intensity >= 0 && intensity <= 1)) problem('intensity', `must be a number from 0 to 1 (the share of words perturbed); got ${show(intensity)}`);

  const seedOrder = input.seedOrder ?? d.seedOrder;
  if (seedOrder !== 'round-robin' && seedOrder !== 'shuffle') problem('seedOrder', `must be "round-robin" or "shuffle"; got ${show(seedOrder)}`);
  const bandit = input.bandit ?? d.bandit;
  const adaptive = BANDIT_ALGORITHMS.filter((a) => a !== 'uniform');
  if (!(adaptive as readonly unknown[]).includes(bandit)) problem('bandit', `must be one of ${adaptive.map((a) => `"${a}"`).join(', ')}; got ${show(bandit)}`);
  const greedyBase = input.greedyBase ?? d.greedyBase;
  if (!isBlindStrategyId(greedyBase)) problem('greedyBase', `must be one of the blind strategies (${BLIND_STRATEGY_IDS.join(', ')}); got ${show(greedyBase)}`);

  const paraphrase = input.paraphrase ?? false;
  if (typeof paraphrase !== 'boolean') problem('paraphrase', `must be true or false; got ${show(paraphrase)}`);
  const strategies = input.strategies ?? d.strategies;
  if (strategies !== 'adaptive') {
    if (!Array.isArray(strategies)) {
      problem('strategies', `must be "adaptive" or a list of strategy names; got ${show(strategies)}`);
    } else if (strategies.length === 0) {
      problem('strategies', `must name at least one strategy (or be "adaptive"); known: ${STRATEGY_IDS.join(', ')}`);
    } else {
      const seen = new Set<unknown>();
      strategies.forEach((s: unknown, i) => {
        if (!isStrategyId(s)) problem(`strategies[${i}]`, `unknown strategy ${show(s)}; known: ${STRATEGY_IDS.join(', ')}`);
        else if (seen.has(s)) problem(`strategies[${i}]`, `${show(s)} is listed twice`);
        seen.add(s);
      });
      if (strategies.includes('greedy') && isInt(queryBudget) && queryBudget === 0) {
        problem('queryBudget', 'the greedy strategy queries the defender: give it a queryBudget of at least 1');
      }
    }
  }

  const seeds = input.seeds;
  if (!Array.isArray(seeds)) {
    problem('seeds', `must be a list of { text, split } seed texts; got ${show(seeds)}`);
  } else if (seeds.length === 0) {
    problem('seeds', 'must hold at least one seed text to attack');
  } else if (seeds.length > BATTLE_LIMITS.seeds.max) {
    problem('seeds', `at most ${BATTLE_LIMITS.seeds.max.toLocaleString('en')} seed texts; got ${seeds.length.toLocaleString('en')}`);
  } else {
    let bad = 0;
    const report = (field: string, message: string) => {
      if (++bad <= MAX_SEED_PROBLEMS) problem(field, message);
    };
    seeds.forEach((s: unknown, i) => {
      const seedText = typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : undefined;
      if (seedText === undefined) return report(`seeds[${i}]`, `must be { text, split }; got ${show(s)}`);
      const { text, split } = seedText;
      if (typeof text !== 'string' || text.trim().length === 0) report(`seeds[${i}].text`, 'must be a non-empty text');
      else if (text.length > BATTLE_LIMITS.seedTextLength.max) report(`seeds[${i}].text`, `must be at most ${BATTLE_LIMITS.seedTextLength.max.toLocaleString('en')} characters; got ${text.length.toLocaleString('en')}`);
      if (!isSplit(split)) report(`seeds[${i}].split`, `must be "train" or "test"; got ${show(split)}`);
    });
    if (bad > MAX_SEED_PROBLEMS) problem('seeds', `${bad - MAX_SEED_PROBLEMS} more seed problems not listed`);
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: {
      rounds: rounds as number,
      strategies: strategies === 'adaptive' ? 'adaptive' : ([...(strategies as StrategyId[])] as const),
      seeds: (seeds as SeedText[]).map((s) => ({ text: s.text, split: s.split })),
      paraphrase: paraphrase as boolean,
      threshold: threshold as number,
      seed: seed as number,
      queryBudget: queryBudget as number,
      seedOrder: seedOrder as SeedOrder,
      bandit: bandit as AdaptiveAlgorithm,
      intensity: intensity as number,
      batchSize: batchSize as number,
      greedyBase: greedyBase as BlindStrategyId,
      keepEvadedTrain: keepEvadedTrain as number,
    },
  };
}

/**
 * The strategies a battle plays: the pinned ones, or for 'adaptive' all (greedy only with a query
 * budget, llm-paraphrase only with a language model).
 */
export function battleArms(config: Pick<BattleConfig, 'strategies' | 'queryBudget'> & { readonly paraphrase?: boolean }): StrategyId[] {
  if (config.strategies !== 'adaptive') return [...config.strategies];
  return STRATEGY_IDS.filter((id) => (id !== 'greedy' || config.queryBudget > 0) && (id !== 'llm-paraphrase' || config.paraphrase === true));
}

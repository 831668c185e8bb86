/**
 * The battle engine: rounds of "pick a seed text, pick a strategy, make a variant, let the
 * defender score it", in batches so one defender call scores a whole batch. Pure: the defender is
 * an injected async function, randomness comes from the battle's seed, and everything it
 * remembers between batches is the plain-JSON BattleState it returns.
 *
 * Determinism and resume: round i draws from its own RNG, seeded by (battle seed, i), and the
 * seed order is a per-pass shuffle seeded the same way, so nothing depends on how many draws
 * earlier rounds made. The bandit's choices for a batch use its state at the start of the batch;
 * its updates land at the end. A run resumed from any state this engine returned therefore plays
 * exactly the rounds the uninterrupted run would have (same config, same defender answers).
 */
import { mulberry32, type Rng } from '../model/rng.js';
import type { Split } from '../dataset/normalize.js';
import { Bandit, type BanditState } from './bandit.js';
import { PARAPHRASE_FALLBACK, type StrategyId } from './catalogue.js';
import { BattleConfigError, battleArms, validateBattleConfig, type BattleConfig } from './config.js';
import { greedyAttack, type Scorer } from './importance.js';
import { STRATEGIES, type StrategyOptions } from './strategies.js';

export interface DefenseResult {
  /** Probability of the harmful label. */
  readonly harmfulScore: number;
  /** The defender's verdict: not detected = the variant evaded. */
  readonly detected: boolean;
}

/** Scores texts in order; one call per batch of rounds (plus the query-based rounds' own). */
export type Defend = (texts: readonly string[]) => Promise<readonly DefenseResult[]>;

/**
 * A language model's rewrite of `text`, or null when it failed (timeout, error, garbage, circuit
 * open): the round then plays PARAPHRASE_FALLBACK. Must not throw. `seed` comes from the round's
 * RNG, for endpoints that honour one; a model's answers are still not guaranteed repeatable.
 */
export type Paraphrase = (text: string, seed: number) => Promise<string | null>;

export interface BattleRound {
  readonly index: number;
  readonly seedIndex: number;
  readonly split: Split;
  readonly original: string;
  readonly variant: string;
  readonly strategy: StrategyId;
  readonly score: number;
  readonly detected: boolean;
  /** Defender queries this round used, its final scoring included (1 for a blind strategy). */
  readonly queries: number;
}

export interface RateStats {
  readonly attempts: number;
  readonly evasions: number;
  /** evasions / attempts; 0 before any attempt. */
  readonly rate: number;
}

export interface EvadedSample {
  readonly round: number;
  readonly seedIndex: number;
  readonly strategy: StrategyId;
  /** The variant that got through: a harmful example for retraining. */
  readonly text: string;
  readonly score: number;
}

export interface BattleStats {
  readonly rounds: number;
  readonly evasions: number;
  readonly detections: number;
  readonly evasionRate: number;
  readonly queries: number;
  /** Paraphrase rounds that played PARAPHRASE_FALLBACK because the language model failed. */
  readonly paraphraseFallbacks?: number;
  readonly byStrategy: Readonly<Partial<Record<StrategyId, RateStats>>>;
  readonly bySplit: Readonly<Record<Split, RateStats>>;
  /** Evasion rate on test-split seeds: the honest measure (train seeds feed retraining). */
  readonly testEvasionRate: number;
  /** Evaded variants of train-split seeds, all of them counted ... */
  readonly evadedTrainCount: number;
  /** ... the first `keepEvadedTrain` kept here (every one also comes out with its batch). */
  readonly evadedTrain: readonly EvadedSample[];
}

export interface BattleState {
  readonly version: 1;
  readonly nextRound: number;
  readonly bandit: BanditState;
  readonly stats: BattleStats;
}

export interface BattleBatch {
  readonly rounds: readonly BattleRound[];
  /** Evaded variants of train-split seeds in this batch. */
  readonly evadedTrain: readonly EvadedSample[];
  /** The state after this batch: save it with the rounds, resume from it. */
  readonly state: BattleState;
  readonly done: boolean;
}

const EMPTY_RATE: RateStats = Object.freeze({ attempts: 0, evasions: 0, rate: 0 });

function addRate(stats: RateStats | undefined, evaded: boolean): RateStats {
  const attempts = (stats?.attempts ?? 0) + 1;
  const evasions = (stats?.evasions ?? 0) + (evaded ? 1 : 0);
  return { attempts, evasions, rate: evasions / attempts };
}

/** murmur3's finalizer over (seed, stream, index): independent RNG seeds per round and per pass. */
function mix(seed: number, stream: number, index: number): number {
  let h = (seed ^ Math.imul(stream, 0x9e3779b9)) | 0;
  h = Math.imul(h ^ Math.imul(index + 1, 0x85ebca6b), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

const ROUND_STREAM = 1;
const ORDER_STREAM = 2;

export class BattleEngine {
  readonly config: BattleConfig;
  private readonly arms: readonly StrategyId[];
  private readonly options: StrategyOptions;
  /** The seed order of one pass over the seeds, cached: consecutive batches share it. */
  private pass = -1;
  private order: Int32Array | undefined;

  /** Throws BattleConfigError for a config validateBattleConfig refuses. */
  constructor(config: BattleConfig) {
    const checked = validateBattleConfig(config);
    if (!checked.ok) throw new BattleConfigError(checked.problems);
    this.config = checked.config;
    this.arms = battleArms(this.config);
    this.options = { intensity: this.config.intensity };
  }

  initialState(): BattleState {
    const algorithm = this.config.strategies === 'adaptive' ? this.config.bandit : 'uniform';
    return {
      version: 1,
      nextRound: 0,
      bandit: Bandit.create(this.arms, algorithm).state(),
      stats: {
        rounds: 0,
        evasions: 0,
        detections: 0,
        evasionRate: 0,
        queries: 0,
        paraphraseFallbacks: 0,
        byStrategy: {},
        bySplit: { train: EMPTY_RATE, test: EMPTY_RATE },
        testEvasionRate: 0,
        evadedTrainCount: 0,
        evadedTrain: [],
      },
    };
  }

  isDone(state: BattleState): boolean {
    return state.nextRound >= this.config.rounds;
  }

  /** The seed text round `index` attacks. */
  seedIndexOf(index: number): number {
    const n = this.config.seeds.length;
    if (this.config.seedOrder === 'round-robin') return index % n;
    const pass = Math.floor(index / n);
    if (pass !== this.pass || this.order === undefined) {
      const order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      const rng = mulberry32(mix(this.config.seed, ORDER_STREAM, pass));
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
      this.pass = pass;
      this.order = order;
    }
    return this.order[index % n]!;
  }

  /** Plays the next batch of rounds (up to batchSize) from `state`. */
  async runBatch(state: BattleState, defend: Defend, paraphrase?: Paraphrase): Promise<BattleBatch> {
    this.checkState(state);
    const { config } = this;
    const start = state.nextRound;
    const end = Math.min(config.rounds, start + config.batchSize);
    const bandit = Bandit.fromState(state.bandit);

    interface Pending {
      index: number;
      seedIndex: number;
      /** The bandit's pick; `strategy` is what was played (the fallback when a paraphrase failed). */
      chosen: StrategyId;
      strategy: StrategyId;
      variant: string;
      queries: number;
      result: DefenseResult | undefined;
    }
    const pending: Pending[] = [];
    // Rounds that wait on something before they can be scored: greedy's queries, a paraphrase.
    const waiting: Promise<void>[] = [];
    let fallbacks = 0;
    for (let index = start; index < end; index++) {
      const rng = mulberry32(mix(config.seed, ROUND_STREAM, index));
      const strategy = bandit.choose(rng) as StrategyId;
      const seedIndex = this.seedIndexOf(index);
      const original = config.seeds[seedIndex]!.text;
      const round: Pending = { index, seedIndex, chosen: strategy, strategy, variant: original, queries: 0, result: undefined };
      pending.push(round);
      if (strategy === 'greedy') waiting.push(this.playGreedy(round, original, rng, defend));
      else if (strategy === 'llm-paraphrase') {
        // The seed is drawn first, so the fallback's draws are the same whether or not a model answered.
        const seed = Math.floor(rng() * 2 ** 31);
        waiting.push(
          (paraphrase ? paraphrase(original, seed).catch(() => null) : Promise.resolve(null)).then((text) => {
            if (text !== null && text.trim().length > 0 && text !== original) round.variant = text;
            else {
              fallbacks++;
              round.strategy = PARAPHRASE_FALLBACK;
              round.variant = STRATEGIES[PARAPHRASE_FALLBACK](original, rng, this.options);
            }
          }),
        );
      } else round.variant = STRATEGIES[strategy](original, rng, this.options);
    }
    await Promise.all(waiting);

    const unscored = pending.filter((r) => r.result === undefined);
    if (unscored.length > 0) {
      const results = await defendChecked(
        defend,
        unscored.map((r) => r.variant),
      );
      unscored.forEach((r, k) => {
        r.result = results[k]!;
        r.queries++;
      });
    }

    let { rounds, evasions, detections, queries, evadedTrainCount } = state.stats;
    const byStrategy = { ...state.stats.byStrategy };
    const bySplit = { ...state.stats.bySplit };
    const kept = [...state.stats.evadedTrain];
    const batchRounds: BattleRound[] = [];
    const evadedTrain: EvadedSample[] = [];
    for (const r of pending) {
      const { harmfulScore: score, detected } = r.result!;
      const seed = config.seeds[r.seedIndex]!;
      const evaded = !detected;
      // A failed paraphrase says nothing about how well paraphrasing evades.
      if (r.chosen === r.strategy) bandit.update(r.strategy, evaded);
      else bandit.release(r.chosen);
      rounds++;
      queries += r.queries;
      if (evaded) evasions++;
      else detections++;
      byStrategy[r.strategy] = addRate(byStrategy[r.strategy], evaded);
      bySplit[seed.split] = addRate(bySplit[seed.split], evaded);
      if (evaded && seed.split === 'train') {
        const sample: EvadedSample = { round: r.index, seedIndex: r.seedIndex, strategy: r.strategy, text: r.variant, score };
        evadedTrain.push(sample);
        evadedTrainCount++;
        if (kept.length < config.keepEvadedTrain) kept.push(sample);
      }
      batchRounds.push({
        index: r.index,
        seedIndex: r.seedIndex,
        split: seed.split,
        original: seed.text,
        variant: r.variant,
        strategy: r.strategy,
        score,
        detected,
        queries: r.queries,
      });
    }

    const next: BattleState = {
      version: 1,
      nextRound: end,
      bandit: bandit.state(),
      stats: {
        rounds,
        evasions,
        detections,
        evasionRate: rounds === 0 ? 0 : evasions / rounds,
        queries,
        paraphraseFallbacks: (state.stats.paraphraseFallbacks ?? 0) + fallbacks,
        byStrategy,
        bySplit,
        testEvasionRate: bySplit.test.rate,
        evadedTrainCount,
        evadedTrain: kept,
      },
    };
    return { rounds: batchRounds, evadedTrain, state: next, done: end >= config.rounds };
  }

  /** Every remaining batch, from `state` (or the start) to the last round. */
  async *run(defend: Defend, state: BattleState = this.initialState(), paraphrase?: Paraphrase): AsyncGenerator<BattleBatch, BattleState> {
    let current = state;
    while (!this.isDone(current)) {
      const batch = await this.runBatch(current, defend, paraphrase);
      current = batch.state;
      yield batch;
    }
    return current;
  }

  private async playGreedy(
    round: { variant: string; queries: number; result: DefenseResult | undefined },
    original: string,
    rng: Rng,
    defend: Defend,
  ): Promise<void> {
    // The defender's verdicts on the first call (the text itself) and the latest one: the final
    // variant was scored in one of them, unless the budget ran out first.
    let first: Map<string, DefenseResult> | undefined;
    let latest = new Map<string, DefenseResult>();
    const score: Scorer = async (texts) => {
      const results = await defendChecked(defend, texts);
      latest = new Map(texts.map((t, k) => [t, results[k]!]));
      first ??= latest;
      return results.map((r) => r.harmfulScore);
    };
    const result = await greedyAttack(original, score, rng, {
      budget: this.config.queryBudget,
      threshold: this.config.threshold,
      base: this.config.greedyBase,
    });
    round.variant = result.variant;
    round.queries = result.queries;
    round.result = result.score === undefined ? undefined : (latest.get(result.variant) ?? first?.get(result.variant));
  }

  private checkState(state: BattleState): void {
    const ok =
      state.version === 1 &&
      Number.isInteger(state.nextRound) &&
      state.nextRound >= 0 &&
      state.bandit.arms.length === this.arms.length &&
      state.bandit.arms.every((a, i) => a.id === this.arms[i]);
    if (!ok) throw new Error('battle state does not belong to this battle config (version, round index or strategies differ)');
  }
}

async function defendChecked(defend: Defend, texts: readonly string[]): Promise<readonly DefenseResult[]> {
  const results = await defend(texts);
  if (results.length !== texts.length) throw new Error(`defender returned ${results.length} results for ${texts.length} texts`);
  return results;
}

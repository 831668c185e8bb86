/**
 * Every strategy a battle may name, with what a dashboard shows for it. `greedy` is the one that
 * queries the defender: it ranks words by how much removing each lowers the harmful score, then
 * perturbs the top ones with a blind strategy until the defender lets the text through.
 */
import { BLIND_STRATEGY_IDS, describeBlindStrategy, type BlindStrategyId } from './strategies.js';

export const STRATEGY_IDS = [...BLIND_STRATEGY_IDS, 'greedy'] as const;
export type StrategyId = (typeof STRATEGY_IDS)[number];

export interface StrategyInfo {
  readonly id: StrategyId;
  readonly name: string;
  readonly description: string;
  /** Spends defender queries to craft a variant (bounded by the battle's query budget). */
  readonly queriesDefender: boolean;
}

export const STRATEGY_CATALOGUE: readonly StrategyInfo[] = Object.freeze([
  ...BLIND_STRATEGY_IDS.map((id): StrategyInfo => Object.freeze({ ...describeBlindStrategy(id), id, queriesDefender: false })),
  Object.freeze({
    id: 'greedy' as const,
    name: 'Greedy (query-based)',
    description:
      'Ranks words by the drop in harmful score when each is removed (leave-one-out, DeepWordBug/TextFooler-style), then perturbs the top words one at a time until the score falls below the threshold or the query budget runs out.',
    queriesDefender: true,
  }),
]);

export const isStrategyId = (value: unknown): value is StrategyId => typeof value === 'string' && (STRATEGY_IDS as readonly string[]).includes(value);
export const isBlindStrategyId = (value: unknown): value is BlindStrategyId =>
  typeof value === 'string' && (BLIND_STRATEGY_IDS as readonly string[]).includes(value);

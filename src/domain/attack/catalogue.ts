/**
 * Every strategy a battle may name, with what a dashboard shows for it. `greedy` is the one that
 * queries the defender: it ranks words by how much removing each lowers the harmful score, then
 * perturbs the top ones with a blind strategy until the defender lets the text through.
 */
import { BLIND_STRATEGY_IDS, describeBlindStrategy, type BlindStrategyId } from './strategies.js';

export const STRATEGY_IDS = [...BLIND_STRATEGY_IDS, 'greedy', 'llm-paraphrase'] as const;
export type StrategyId = (typeof STRATEGY_IDS)[number];

export interface StrategyInfo {
  readonly id: StrategyId;
  readonly name: string;
  readonly description: string;
  /** Spends defender queries to craft a variant (bounded by the battle's query budget). */
  readonly queriesDefender: boolean;
  /** Needs a language model (an OpenAI-compatible chat endpoint, ARENA_LLM_URL); skipped with a notice without one. */
  readonly needsLlm: boolean;
}

/** The strategy a paraphrase round plays instead when the language model fails or is unavailable. */
export const PARAPHRASE_FALLBACK = 'chain' satisfies StrategyId;

export const STRATEGY_CATALOGUE: readonly StrategyInfo[] = Object.freeze([
  ...BLIND_STRATEGY_IDS.map((id): StrategyInfo => Object.freeze({ ...describeBlindStrategy(id), id, queriesDefender: false, needsLlm: false })),
  Object.freeze({
    id: 'greedy' as const,
    name: 'Greedy (query-based)',
    description:
      'Ranks words by the drop in harmful score when each is removed (leave-one-out, DeepWordBug/TextFooler-style), then perturbs the top words one at a time until the score falls below the threshold or the query budget runs out.',
    queriesDefender: true,
    needsLlm: false,
  }),
  Object.freeze({
    id: 'llm-paraphrase' as const,
    name: 'LLM paraphrase',
    description:
      'Asks a language model (an OpenAI-compatible chat endpoint, e.g. a local Ollama) to rewrite the text with the same meaning in words a filter would not flag. When the model fails, times out or answers garbage, the round plays the chain strategy instead and the battle notes it.',
    queriesDefender: false,
    needsLlm: true,
  }),
]);

export const isStrategyId = (value: unknown): value is StrategyId => typeof value === 'string' && (STRATEGY_IDS as readonly string[]).includes(value);
export const isBlindStrategyId = (value: unknown): value is BlindStrategyId =>
  typeof value === 'string' && (BLIND_STRATEGY_IDS as readonly string[]).includes(value);

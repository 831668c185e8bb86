export { BANDIT_ALGORITHMS, Bandit, sampleBeta } from './bandit.js';
export type { ArmState, BanditAlgorithm, BanditState } from './bandit.js';
export { PARAPHRASE_FALLBACK, STRATEGY_CATALOGUE, STRATEGY_IDS, isBlindStrategyId, isStrategyId } from './catalogue.js';
export type { StrategyId, StrategyInfo } from './catalogue.js';
export { BATTLE_LIMITS, BattleConfigError, DEFAULT_BATTLE_SETTINGS, battleArms, validateBattleConfig } from './config.js';
export type { AdaptiveAlgorithm, BattleConfig, BattleConfigCheck, BattleConfigInput, BattleProblem, SeedOrder, SeedText } from './config.js';
export { BattleEngine } from './engine.js';
export type { BattleBatch, BattleRound, BattleState, BattleStats, Defend, DefenseResult, EvadedSample, Paraphrase, RateStats } from './engine.js';
export { DEFAULT_GREEDY_BASE, DEFAULT_QUERY_BATCH, greedyAttack, rankImportantWords } from './importance.js';
export type { GreedyOptions, GreedyResult, ImportanceOptions, ImportanceResult, Scorer, WordImportance } from './importance.js';
export { LEXICON } from './lexicon.js';
export {
  BLIND_STRATEGY_IDS,
  DEFAULT_INTENSITY,
  STRATEGIES,
  chainOf,
  perturbWordsAt,
  randomChain,
  wordPerturber,
} from './strategies.js';
export type { BlindStrategyId, Strategy, StrategyOptions, WordPerturber } from './strategies.js';
export { splitWords } from './words.js';
export type { Words } from './words.js';
export { PARAPHRASE_MAX_INPUT, ParaphraseError, paraphraseRequest, parseParaphrase } from './paraphrase.js';
export type { ChatRequest } from './paraphrase.js';

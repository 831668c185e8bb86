export { BattleService, DEFAULT_EVASION_THRESHOLD } from './battle.service.js';
export type { BattleRoundView, BattleRoundsEvent, BattleView, CreateBattleInput, StrategyStatsView } from './battle.service.js';

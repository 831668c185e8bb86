import { Entity, EntityRepositoryType, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { JobRow } from './job-row.entity.js';
import { JobRowRepository } from './job-row.repository.js';
import { BattleRoundRepository } from './battle-round.repository.js';

/**
 * A battle: an attacker's rounds against a pinned defender version. The engine's state (next
 * round, bandit, statistics) is a column, written with each batch of rounds, so a battle resumes
 * where its last batch ended after a worker dies.
 */
@Entity({ tableName: 'battle', repository: () => JobRowRepository })
export class Battle extends JobRow {
  [EntityRepositoryType]?: JobRowRepository<Battle>;

  @Property({ type: 'string', length: 64 })
  @Index()
  modelName!: string;

  /** The alias the defender was chosen by (its version is pinned below at creation). */
  @Property({ type: 'string', length: 64 })
  alias!: string;

  @Property({ type: 'uuid' })
  @Index()
  defenderVersionId!: string;

  @Property({ type: 'integer' })
  defenderVersion!: number;

  /** The label the attacker wants the defender to miss. */
  @Property({ type: 'string', length: 64 })
  harmfulLabel!: string;

  /** The validated engine config (rounds, strategies, seeds with their splits, seed, budgets). */
  @Property({ type: 'json' })
  config!: Record<string, unknown>;

  /** Evasion rate above which a finished battle retrains the defender. */
  @Property({ type: 'double' })
  threshold!: number;

  @Property({ type: 'boolean' })
  autoRetrain!: boolean;

  /** Where the seeds came from, when drawn from a dataset version. */
  @Property({ type: 'uuid', nullable: true })
  seedDatasetVersionId: string | null = null;

  /** The engine's state after the last stored batch; null before the first. */
  @Property({ type: 'json', nullable: true })
  state: Record<string, unknown> | null = null;

  @Property({ type: 'integer' })
  roundsDone: Opt<number> = 0;

  @Property({ type: 'integer' })
  evasions: Opt<number> = 0;

  @Property({ type: 'integer' })
  detections: Opt<number> = 0;

  /** Latency percentiles of the defender per round, once finished. */
  @Property({ type: 'json', nullable: true })
  latency: Record<string, number> | null = null;

  @Property({ type: 'uuid', nullable: true })
  retrainRunId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  retrainDatasetVersionId: string | null = null;

  /** Why a battle over its threshold did not retrain (no dataset behind the defender, one running…). */
  @Property({ type: 'text', nullable: true })
  retrainNotice: string | null = null;

  /** Things a person should know about how the battle was played (a strategy skipped, a language model that failed). */
  @Property({ type: 'json', default: '[]' })
  notices: string[] & Opt = [];

  @Property({ type: 'uuid', nullable: true })
  rematchOf: string | null = null;

  @Property({ type: 'string', length: 200, nullable: true })
  @Index()
  principal: string | null = null;
}

/** One round as played: the seed text, the attacker's variant, and what the defender said. */
/**
 * One round. The text attacked is not stored again per round: it is the battle's seed
 * `seedIndex` (config.seeds), which for e-mails halved what every batch writes.
 */
@Entity({ tableName: 'battle_round', repository: () => BattleRoundRepository })
export class BattleRoundRow {
  [EntityRepositoryType]?: BattleRoundRepository;

  @PrimaryKey({ type: 'uuid' })
  battleId!: string;

  @PrimaryKey({ type: 'integer' })
  idx!: number;

  @Property({ type: 'integer' })
  seedIndex!: number;

  @Property({ type: 'string', length: 8 })
  split!: string;

  @Property({ type: 'text' })
  variant!: string;

  @Property({ type: 'string', length: 32 })
  strategy!: string;

  /** The defender's probability of the harmful label. */
  @Property({ type: 'double' })
  score!: number;

  @Property({ type: 'boolean' })
  detected!: boolean;

  @Property({ type: 'integer' })
  queries!: number;

  @Property({ type: 'double' })
  latencyMs!: number;
}

import { Entity, EntityRepositoryType, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { JobRow } from './job-row.entity.js';
import { JobRowRepository } from './job-row.repository.js';

/** One step of a run as recorded: `validate`, `prepare`, `allocate`, `train`, `evaluate`, `register`, `compare`, `promote`. */
export interface TrainingStepRecord {
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
  startedAt: string;
  finishedAt: string | null;
  /** What happened, in a line (e.g. "1,234 train / 310 test examples"). */
  detail: string | null;
}

/**
 * A training run: a dataset version and hyperparameters in, a registered model version out. The
 * row owns the status (see JobRow); steps, the champion comparison and the result are columns on
 * it, metric points and log lines are rows of their own (they come by the thousand).
 */
@Entity({ tableName: 'training_run', repository: () => JobRowRepository })
export class TrainingRun extends JobRow {
  [EntityRepositoryType]?: JobRowRepository<TrainingRun>;

  @Property({ type: 'string', length: 64 })
  @Index()
  modelName!: string;

  @Property({ type: 'uuid' })
  @Index()
  datasetVersionId!: string;

  /** The runner that trains (`builtin`, or one configured in ARENA_TRAINING_RUNNERS). */
  @Property({ type: 'string', length: 64 })
  runner!: string;

  /** Validated and with defaults filled in, as the runner got them. */
  @Property({ type: 'json' })
  hyperparameters!: Record<string, unknown>;

  @Property({ type: 'json' })
  featurizerSpec!: Record<string, unknown>;

  /** `cpu` or `cuda:<index>` once allocated. */
  @Property({ type: 'string', length: 32, nullable: true })
  device: string | null = null;

  @Property({ type: 'json' })
  steps: Opt<TrainingStepRecord[]> = [];

  /** 0 to 1, as the runner reports it. */
  @Property({ type: 'double' })
  progress: Opt<number> = 0;

  /** The challenger's metrics on the test split, and the champion's on the same split. */
  @Property({ type: 'json', nullable: true })
  evaluation: Record<string, unknown> | null = null;

  @Property({ type: 'uuid', nullable: true })
  resultVersionId: string | null = null;

  @Property({ type: 'integer', nullable: true })
  resultVersion: number | null = null;

  /** Whether the result became champion (automatically or later by promoteModelVersion). */
  @Property({ type: 'boolean' })
  promoted: Opt<boolean> = false;

  /** Who started it (a user id): the run's owner. */
  @Property({ type: 'string', length: 200, nullable: true })
  @Index()
  principal: string | null = null;

  /** Lines of the runner that were not protocol messages (counted, the first few kept in the log). */
  @Property({ type: 'integer' })
  garbageLines: Opt<number> = 0;
}

/** One metric point (loss, train_accuracy, val_f1, examples_per_second…) in the order it came. */
@Entity({ tableName: 'training_metric' })
export class TrainingMetric {
  @PrimaryKey({ type: 'uuid' })
  runId!: string;

  @PrimaryKey({ type: 'integer' })
  seq!: number;

  @Property({ type: 'string', length: 64 })
  name!: string;

  @Property({ type: 'double' })
  value!: number;

  @Property({ type: 'integer', nullable: true })
  step: number | null = null;

  @Property({ type: 'integer', nullable: true })
  epoch: number | null = null;

  @Property({ type: 'datetime' })
  at!: Date;
}

/** One log line of a run: the runner's own, and the worker's about each step. */
@Entity({ tableName: 'training_log' })
export class TrainingLog {
  @PrimaryKey({ type: 'uuid' })
  runId!: string;

  @PrimaryKey({ type: 'integer' })
  seq!: number;

  @Property({ type: 'string', length: 8 })
  level!: string;

  @Property({ type: 'text' })
  message!: string;

  @Property({ type: 'datetime' })
  at!: Date;
}

/** A model version's metrics on one dataset version's test split (evaluateModelVersion, training runs). */
@Entity({ tableName: 'model_evaluation' })
@Index({ properties: ['modelVersionId', 'datasetVersionId'] })
export class ModelEvaluation {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  modelVersionId!: string;

  @Property({ type: 'uuid' })
  datasetVersionId!: string;

  @Property({ type: 'json' })
  metrics!: Record<string, unknown>;

  @Property({ type: 'string', length: 200, nullable: true })
  createdBy: string | null = null;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}

/** A worker process as it last reported itself (see WorkerRegistry). */
@Entity({ tableName: 'worker_process' })
export class WorkerProcess {
  @PrimaryKey({ type: 'string', length: 200 })
  id!: string;

  @Property({ type: 'string', length: 255 })
  host!: string;

  @Property({ type: 'integer' })
  pid!: number;

  @Property({ type: 'json' })
  queues!: string[];

  @Property({ type: 'integer' })
  concurrency!: number;

  /** `{ kind: 'cpu', cores }` and one `{ kind: 'cuda', index, name, memoryMiB }` per GPU. */
  @Property({ type: 'json' })
  devices!: Record<string, unknown>[];

  /** `{ queue, jobId, startedAt, device }` per job running now. */
  @Property({ type: 'json' })
  currentJobs: Opt<Record<string, unknown>[]> = [];

  @Property({ type: 'datetime' })
  startedAt!: Date;

  @Property({ type: 'datetime' })
  @Index()
  heartbeatAt!: Date;
}

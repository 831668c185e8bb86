import { Entity, EntityRepositoryType, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { JobRow } from './job-row.entity.js';
import { JobRowRepository } from './job-row.repository.js';

/**
 * A bulk classification. Its texts are an artifact (JSON Lines), not rows: submitting 100,000 texts
 * costs one file write. The model version is pinned at submission, so an alias moving mid-job never
 * mixes two models' answers in one result set.
 */
@Entity({ tableName: 'inference_job', repository: () => JobRowRepository })
export class InferenceJob extends JobRow {
  [EntityRepositoryType]?: JobRowRepository<InferenceJob>;

  @Property({ type: 'string', length: 64 })
  modelName!: string;

  /** The alias the caller named, if any (the version it pointed at is `version`). */
  @Property({ type: 'string', length: 64, nullable: true })
  alias: string | null = null;

  @Property({ type: 'uuid' })
  modelVersionId!: string;

  @Property({ type: 'integer' })
  version!: number;

  @Property({ type: 'text' })
  inputKey!: string;

  @Property({ type: 'integer' })
  total!: number;

  /** Texts with a stored result (answered or failed). Resumes from here after a retry. */
  @Property({ type: 'integer' })
  processed: Opt<number> = 0;

  /** Texts that could not be classified (empty, too long). */
  @Property({ type: 'integer' })
  failed: Opt<number> = 0;

  /** Texts per second while running, over the whole job once it finishes. */
  @Property({ type: 'double', nullable: true })
  throughput: number | null = null;

  /** Who submitted it (a user id): the job's owner. */
  @Property({ type: 'string', length: 200, nullable: true })
  @Index()
  principal: string | null = null;
}

/** One text's answer in a bulk job, addressed by its position in the input. */
@Entity({ tableName: 'inference_result' })
@Index({ properties: ['jobId', 'label'] })
export class InferenceResult {
  @PrimaryKey({ type: 'uuid' })
  jobId!: string;

  @PrimaryKey({ type: 'integer' })
  idx!: number;

  @Property({ type: 'string', length: 64, nullable: true })
  label: string | null = null;

  /** Probabilities in the model's label order; null when `error` is set. */
  @Property({ type: 'json', nullable: true })
  scores: number[] | null = null;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;
}

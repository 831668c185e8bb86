import { Entity, EntityRepositoryType, Index, Property, type Opt } from '@mikro-orm/core';
import { JobRow } from './job-row.entity.js';
import { PingJobRepository } from './ping-job.repository.js';

/** The smallest real job: proves mutation → row → queue → worker → event → subscription. */
@Entity({ tableName: 'ping_job', repository: () => PingJobRepository })
export class PingJob extends JobRow {
  [EntityRepositoryType]?: PingJobRepository;

  @Property({ type: 'text' })
  message!: string;

  /** How long the worker takes, so tests and people can watch a job run and interrupt it. */
  @Property({ type: 'integer' })
  delayMs: Opt<number> = 0;

  /** The user who asked; only they (and admins) see the job. */
  @Property({ type: 'string', length: 200, nullable: true })
  @Index()
  owner: string | null = null;

  @Property({ type: 'text', nullable: true })
  reply: string | null = null;
}

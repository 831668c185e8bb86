import { Entity, Enum, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { JOB_STATUSES, type JobStatus } from '../domain/index.js';

/**
 * Columns every job-backed row shares. The row owns the status; the queue only carries its id,
 * so any process can tell what state a job is in by reading the database.
 */
@Entity({ abstract: true })
export abstract class JobRow {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Enum({ items: () => JOB_STATUSES, type: 'string', length: 16 })
  @Index()
  status: Opt<JobStatus> = 'QUEUED';

  /** Incremented each time a worker starts the job. */
  @Property({ type: 'integer' })
  attempts: Opt<number> = 0;

  @Property({ type: 'string', length: 200, nullable: true })
  workerId: string | null = null;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  /** Last change of state (enqueue, start, hand-back, finish). */
  @Property({ type: 'datetime' })
  updatedAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  heartbeatAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  finishedAt: Date | null = null;
}

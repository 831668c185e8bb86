import { registerEnumType } from 'type-graphql';
import { JOB_STATUSES, type JobStatus } from '../domain/index.js';

export const JobStatusEnum = Object.fromEntries(JOB_STATUSES.map((s) => [s, s])) as { [K in JobStatus]: K };

registerEnumType(JobStatusEnum, {
  name: 'JobStatus',
  description: 'QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED. The database row owns it.',
});

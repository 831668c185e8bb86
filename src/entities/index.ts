import { JobRow } from './job-row.entity.js';
import { PingJob } from './ping-job.entity.js';

export { JobRow } from './job-row.entity.js';
export { JobRowRepository } from './job-row.repository.js';
export { PingJob } from './ping-job.entity.js';
export { PingJobRepository } from './ping-job.repository.js';
export type { PageRequest } from './ping-job.repository.js';

/** Listed explicitly: folder discovery differs between compiled and TypeScript runs. */
export const ENTITIES = [JobRow, PingJob];

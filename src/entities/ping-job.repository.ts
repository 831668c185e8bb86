import type { PingJob } from './ping-job.entity.js';
import { JobRowRepository, type PageRequest } from './job-row.repository.js';

export type { PageRequest } from './job-row.repository.js';

export class PingJobRepository extends JobRowRepository<PingJob> {
  /** Newest first (one owner's, or everyone's). */
  listPage(page: PageRequest, owner?: string): Promise<{ rows: PingJob[]; hasMore: boolean }> {
    return this.pageNewestFirst(page, owner === undefined ? {} : { owner });
  }
}

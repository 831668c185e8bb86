import type { PingJob } from './ping-job.entity.js';
import { JobRowRepository } from './job-row.repository.js';

export interface PageRequest {
  readonly first: number;
  /** Exclusive lower bound in newest-first order: the (createdAt, id) of the last row seen. */
  readonly after: { readonly createdAt: Date; readonly id: string } | undefined;
}

export class PingJobRepository extends JobRowRepository<PingJob> {
  /** Newest first (one owner's, or everyone's), keyset-paginated so deep pages cost the same as the first. */
  async listPage(page: PageRequest, owner?: string): Promise<{ rows: PingJob[]; hasMore: boolean }> {
    const where = {
      ...(owner === undefined ? {} : { owner }),
      ...(page.after
        ? {
            $or: [
              { createdAt: { $lt: page.after.createdAt } },
              { createdAt: page.after.createdAt, id: { $lt: page.after.id } },
            ],
          }
        : {}),
    };
    const rows = await this.find(where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: page.first + 1 });
    return { rows: rows.slice(0, page.first), hasMore: rows.length > page.first };
  }
}

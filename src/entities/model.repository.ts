import { EntityRepository } from '@mikro-orm/postgresql';
import type { Model } from './model.entity.js';

export class ModelRepository extends EntityRepository<Model> {
  /** Models by name, keyset-paginated. */
  async listPage(first: number, afterName: string | undefined): Promise<{ rows: Model[]; hasMore: boolean }> {
    const rows = await this.find(afterName ? { name: { $gt: afterName } } : {}, { orderBy: { name: 'asc' }, limit: first + 1 });
    return { rows: rows.slice(0, first), hasMore: rows.length > first };
  }
}

import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { Model } from './model.entity.js';

export class ModelRepository extends EntityRepository<Model> {
  /** Models by name, keyset-paginated, among those `where` admits. */
  async listPage(first: number, afterName: string | undefined, where: FilterQuery<Model> = {}): Promise<{ rows: Model[]; hasMore: boolean }> {
    const rows = await this.find(afterName ? { $and: [where, { name: { $gt: afterName } }] } : where, { orderBy: { name: 'asc' }, limit: first + 1 });
    return { rows: rows.slice(0, first), hasMore: rows.length > first };
  }
}

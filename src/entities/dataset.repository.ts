import { EntityRepository, type FilterQuery, type Knex } from '@mikro-orm/postgresql';
import type { Dataset } from './dataset.entity.js';

/** One example as stored, for pages and exports. */
export interface ExampleRow {
  readonly id: number;
  readonly versionId: string;
  readonly text: string;
  readonly label: string;
  readonly source: string | null;
  readonly split: string;
}

export interface NewExampleRow {
  readonly text: string;
  readonly label: string;
  readonly source: string | null;
  readonly split: string;
  /** Signed 64-bit decimal. */
  readonly textHash: string;
}

export interface ExampleFilter {
  readonly label?: string | null;
  readonly split?: string | null;
}

/** Something that keeps a dataset from being deleted. */
export interface DatasetDependent {
  /** A model version trained on one of its versions, or a training run queued or running on one (`version` is then 0). */
  readonly kind: 'model-version' | 'training-run';
  readonly name: string;
  readonly version: number;
  readonly datasetVersion: number;
}

/**
 * A PostgreSQL array literal. Arrays go to the server as one text parameter each, so a batch of
 * thousands of rows is one statement with six parameters, on PostgreSQL and PGlite alike.
 */
export function pgArray(values: readonly (string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    out += v === null || v === undefined ? 'NULL' : `"${v.replace(/[\\"]/g, '\\$&')}"`;
  }
  return `${out}}`;
}

interface RawExample {
  id: string | number;
  version_id: string;
  text: string;
  label: string;
  source: string | null;
  split: string;
}

const toRow = (r: RawExample): ExampleRow => ({
  id: Number(r.id),
  versionId: r.version_id,
  text: r.text,
  label: r.label,
  source: r.source,
  split: r.split,
});

/**
 * Datasets and their examples. A version's examples are the rows of every version in its lineage;
 * ids grow with time and a parent is complete before a child is derived from it, so ordering by
 * id within each lineage entry, oldest entry first, is ordering by id overall. Each entry is read
 * on its own through the (version_id, …, id) indexes: `version_id = any(…) order by id` would
 * sort the whole lineage for every page.
 */
export class DatasetRepository extends EntityRepository<Dataset> {
  /** Datasets by name, keyset-paginated, among those `where` admits. */
  async listPage(first: number, afterName: string | undefined, where: FilterQuery<Dataset> = {}): Promise<{ rows: Dataset[]; hasMore: boolean }> {
    const rows = await this.find(afterName ? { $and: [where, { name: { $gt: afterName } }] } : where, { orderBy: { name: 'asc' }, limit: first + 1 });
    return { rows: rows.slice(0, first), hasMore: rows.length > first };
  }

  /**
   * The connection of the current transaction, if any. Bulk statements go through knex, whose
   * bindings reach the server as parameters: MikroORM's execute() inlines them as escaped literals
   * (megabytes of text escaped, then parsed again by the server, per batch).
   */
  private knex(): Knex {
    const em = this.getEntityManager();
    return em.getTransactionContext<Knex.Transaction>() ?? em.getKnex();
  }

  /** Adds one batch of examples to a version in a single statement. */
  async insertExamples(versionId: string, rows: readonly NewExampleRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.knex().raw(
      `insert into example (version_id, text, label, source, split, text_hash)
       select ?::uuid, t.text, t.label, t.source, t.split, t.text_hash
         from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[]) as t(text, label, source, split, text_hash)`,
      [
        versionId,
        pgArray(rows.map((r) => r.text)),
        pgArray(rows.map((r) => r.label)),
        pgArray(rows.map((r) => r.source)),
        pgArray(rows.map((r) => r.split)),
        pgArray(rows.map((r) => r.textHash)),
      ],
    );
  }

  /** Up to `limit` examples of the lineage after `afterId`, by id, optionally of one label and split. */
  async pageExamples(lineage: readonly string[], afterId: number | undefined, limit: number, filter: ExampleFilter = {}): Promise<ExampleRow[]> {
    const out: ExampleRow[] = [];
    for (const versionId of lineage) {
      if (out.length >= limit) break;
      const where = ['version_id = ?', 'id > ?'];
      const params: unknown[] = [versionId, afterId ?? 0];
      if (filter.label != null) {
        where.push('label = ?');
        params.push(filter.label);
      }
      if (filter.split != null) {
        where.push('split = ?');
        params.push(filter.split);
      }
      params.push(limit - out.length);
      const rows = await this.getEntityManager().execute<RawExample[]>(
        `select id, version_id, text, label, source, split from example where ${where.join(' and ')} order by id limit ?`,
        params,
      );
      for (const r of rows) out.push(toRow(r));
    }
    return out;
  }

  async countExamples(lineage: readonly string[], filter: ExampleFilter = {}): Promise<number> {
    const where = ['version_id = any(?::uuid[])'];
    const params: unknown[] = [pgArray(lineage)];
    if (filter.label != null) {
      where.push('label = ?');
      params.push(filter.label);
    }
    if (filter.split != null) {
      where.push('split = ?');
      params.push(filter.split);
    }
    const [row] = await this.getEntityManager().execute<{ n: string | number }[]>(`select count(*) as n from example where ${where.join(' and ')}`, params);
    return Number(row?.n ?? 0);
  }

  /** Examples of the lineage whose normalized-text digest is one of `hashes`: a derived version's possible duplicates. */
  async examplesWithHashes(lineage: readonly string[], hashes: readonly string[]): Promise<{ text: string; textHash: string }[]> {
    if (hashes.length === 0 || lineage.length === 0) return [];
    const rows = await this.getEntityManager().execute<{ text: string; text_hash: string }[]>(
      'select text, text_hash::text as text_hash from example where version_id = any(?::uuid[]) and text_hash = any(?::bigint[])',
      [pgArray(lineage), pgArray(hashes)],
    );
    return rows.map((r) => ({ text: r.text, textHash: r.text_hash }));
  }

  /**
   * What refers to any version of the dataset: model versions trained on one
   * (model_version.dataset_version_id), and training runs that will read one (queued or running).
   */
  async dependents(datasetId: string, limit = 20): Promise<DatasetDependent[]> {
    const rows = await this.getEntityManager().execute<{ kind: DatasetDependent['kind']; name: string; version: number; dataset_version: number }[]>(
      `(select 'model-version' as kind, m.name, mv.version, dv.version as dataset_version
          from model_version mv
          join model m on m.id = mv.model_id
          join dataset_version dv on dv.id = mv.dataset_version_id
         where dv.dataset_id = ?
        union all
        select 'training-run' as kind, tr.id::text as name, 0 as version, dv.version as dataset_version
          from training_run tr
          join dataset_version dv on dv.id = tr.dataset_version_id
         where dv.dataset_id = ? and tr.status in ('QUEUED', 'RUNNING'))
        order by kind, name, version
        limit ?`,
      [datasetId, datasetId, limit],
    );
    return rows.map((r) => ({ kind: r.kind, name: r.name, version: Number(r.version), datasetVersion: Number(r.dataset_version) }));
  }

  /** The next version number of a dataset; call with the dataset row locked. */
  async nextVersionNumber(datasetId: string): Promise<number> {
    const [row] = await this.getEntityManager().execute<{ n: number | null }[]>('select max(version) as n from dataset_version where dataset_id = ?', [datasetId]);
    return (row?.n ?? 0) + 1;
  }
}

import { ArrayType, Entity, ManyToOne, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { Dataset } from './dataset.entity.js';

export const DATASET_VERSION_SOURCES = ['UPLOAD', 'DERIVED', 'IMPORT'] as const;
export type DatasetVersionSource = (typeof DATASET_VERSION_SOURCES)[number];

/** What a version changed relative to its parent. */
export interface DatasetChanges {
  readonly source: DatasetVersionSource;
  /** Examples this version added (a derived version's only rows). */
  readonly added: number;
  /** `csv`, `jsonl`, or null when the rows did not come from a file. */
  readonly format: string | null;
  readonly fileName: string | null;
  readonly note: string | null;
}

/**
 * Immutable once written. A version's examples are those whose version id is in its `lineage`
 * (its ancestors and itself, oldest first): a derived version stores only the rows it adds.
 */
@Entity({ tableName: 'dataset_version' })
@Unique({ properties: ['dataset', 'version'] })
export class DatasetVersion {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: 'Dataset', deleteRule: 'cascade' })
  dataset!: Dataset;

  /** 1, 2, 3… per dataset. */
  @Property({ type: 'integer' })
  version!: number;

  @ManyToOne({ entity: 'DatasetVersion', nullable: true, deleteRule: 'cascade' })
  parent: DatasetVersion | null = null;

  /** Ancestor version ids, oldest first, ending with this version's own id. */
  @Property({ type: ArrayType, columnType: 'uuid[]' })
  lineage!: string[];

  @Property({ type: 'json' })
  changes!: DatasetChanges;

  /** Every example of the version, its ancestors' included. */
  @Property({ type: 'integer' })
  rowCount!: number;

  /** Share of hash-split examples held out for test. */
  @Property({ type: 'double' })
  splitRatio!: number;

  /** See ValidationReport in src/domain/dataset/report.ts. */
  @Property({ type: 'json' })
  validation!: Record<string, unknown>;

  @Property({ type: 'string', length: 200, nullable: true })
  createdBy: string | null = null;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}

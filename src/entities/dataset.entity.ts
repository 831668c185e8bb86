import { ArrayType, Collection, Entity, EntityRepositoryType, Enum, Index, OneToMany, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { VISIBILITIES, type Visibility } from '../domain/auth/index.js';
import { DatasetRepository } from './dataset.repository.js';
import type { DatasetVersion } from './dataset-version.entity.js';

/** Labelled text with immutable versions. Ownership and visibility work exactly as for models. */
@Entity({ tableName: 'dataset', repository: () => DatasetRepository })
export class Dataset {
  [EntityRepositoryType]?: DatasetRepository;

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64 })
  @Unique()
  name!: string;

  @Property({ type: 'text' })
  description: Opt<string> = '';

  /** Every example's label is one of these. */
  @Property({ type: ArrayType, columnType: 'text[]' })
  labels!: string[];

  /** The owning user's id; null for datasets the platform made itself (an import from the CLI). */
  @Property({ type: 'string', length: 200, nullable: true })
  @Index()
  owner: string | null = null;

  @Enum({ items: () => VISIBILITIES, type: 'string', length: 16 })
  visibility: Opt<Visibility> = 'PRIVATE';

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @OneToMany({ entity: 'DatasetVersion', mappedBy: 'dataset' })
  versions = new Collection<DatasetVersion>(this);
}

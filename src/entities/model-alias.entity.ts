import { Entity, ManyToOne, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { Model } from './model.entity.js';
import type { ModelVersion } from './model-version.entity.js';

/** A movable name for a version. The database refuses to delete a version an alias points at. */
@Entity({ tableName: 'model_alias' })
@Unique({ properties: ['model', 'name'] })
export class ModelAlias {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: 'Model', deleteRule: 'cascade' })
  model!: Model;

  @Property({ type: 'string', length: 64 })
  name!: string;

  @ManyToOne({ entity: 'ModelVersion', deleteRule: 'restrict' })
  version!: ModelVersion;

  @Property({ type: 'datetime' })
  updatedAt: Opt<Date> = new Date();
}

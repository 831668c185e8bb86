import { Collection, Entity, EntityRepositoryType, OneToMany, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { ModelRepository } from './model.repository.js';
import type { ModelAlias } from './model-alias.entity.js';
import type { ModelVersion } from './model-version.entity.js';

@Entity({ tableName: 'model', repository: () => ModelRepository })
export class Model {
  [EntityRepositoryType]?: ModelRepository;

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64 })
  @Unique()
  name!: string;

  /** What the model does, e.g. `text-classification`. */
  @Property({ type: 'string', length: 64 })
  task: Opt<string> = 'text-classification';

  /** The label set every version of this model must produce, in output order. */
  @Property({ type: 'json' })
  labels!: string[];

  @Property({ type: 'text' })
  description: Opt<string> = '';

  /** Set once users exist (the security issue); null for models made by the platform itself. */
  @Property({ type: 'string', length: 200, nullable: true })
  owner: string | null = null;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @OneToMany({ entity: 'ModelVersion', mappedBy: 'model' })
  versions = new Collection<ModelVersion>(this);

  @OneToMany({ entity: 'ModelAlias', mappedBy: 'model' })
  aliases = new Collection<ModelAlias>(this);
}

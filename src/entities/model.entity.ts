import { Collection, Entity, EntityRepositoryType, Enum, Index, OneToMany, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { PROMOTION_POLICIES, VISIBILITIES, type PromotionPolicy, type Visibility } from '../domain/index.js';
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

  /** The owning user's id; null for models the platform made itself. */
  @Property({ type: 'string', length: 200, nullable: true })
  @Index()
  owner: string | null = null;

  @Enum({ items: () => VISIBILITIES, type: 'string', length: 16 })
  visibility: Opt<Visibility> = 'PRIVATE';

  /**
   * What a training run does with a challenger that beats the champion on the same test split:
   * `AUTOMATIC` promotes it, `MANUAL` leaves it to promoteModelVersion.
   */
  @Enum({ items: () => PROMOTION_POLICIES, type: 'string', length: 16 })
  promotionPolicy: Opt<PromotionPolicy> = 'AUTOMATIC';

  /** How much higher the challenger's F1 must be than the champion's to count as better. */
  @Property({ type: 'double' })
  promotionMargin: Opt<number> = 0;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @OneToMany({ entity: 'ModelVersion', mappedBy: 'model' })
  versions = new Collection<ModelVersion>(this);

  @OneToMany({ entity: 'ModelAlias', mappedBy: 'model' })
  aliases = new Collection<ModelAlias>(this);
}

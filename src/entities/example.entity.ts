import { BigIntType, Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * One labelled text, written once by the version that added it and shared by every version
 * derived from that one. Rows are written and read with set-based SQL (see DatasetRepository),
 * never one entity at a time; the entity gives the schema its shape.
 */
@Entity({ tableName: 'example' })
@Index({ properties: ['version', 'id'] })
@Index({ properties: ['version', 'label', 'split', 'id'] })
export class Example {
  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  /** The id of the version that added it. */
  @ManyToOne({ entity: 'DatasetVersion', mapToPk: true, deleteRule: 'cascade' })
  version!: string;

  @Property({ type: 'text' })
  text!: string;

  @Property({ type: 'string', length: 64 })
  label!: string;

  @Property({ type: 'text', nullable: true })
  source: string | null = null;

  /** `train` or `test`. */
  @Property({ type: 'string', length: 8 })
  split!: string;

  /** 64-bit digest of the normalized text: duplicates and the split (src/domain/dataset). */
  @Property({ type: new BigIntType('string') })
  textHash!: string;
}

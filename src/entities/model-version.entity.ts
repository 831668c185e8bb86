import { BigIntType, Entity, Enum, ManyToOne, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { Model } from './model.entity.js';

export const VERSION_SOURCES = ['UPLOAD', 'TRAINING'] as const;
export type VersionSource = (typeof VERSION_SOURCES)[number];

/** Immutable once written: the artifact, how to feed it, what it scored, and where it came from. */
@Entity({ tableName: 'model_version' })
@Unique({ properties: ['model', 'version'] })
export class ModelVersion {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: 'Model', deleteRule: 'cascade' })
  model!: Model;

  /** 1, 2, 3… per model. */
  @Property({ type: 'integer' })
  version!: number;

  @Property({ type: 'string', length: 16 })
  format: Opt<string> = 'onnx';

  /** Key in the artifact store (content-addressed). */
  @Property({ type: 'text' })
  artifactKey!: string;

  @Property({ type: 'string', length: 64 })
  sha256!: string;

  @Property({ type: new BigIntType('number') })
  sizeBytes!: number;

  /** The featurizer spec that turns text into this model's input, exactly. */
  @Property({ type: 'json' })
  featurizerSpec!: Record<string, unknown>;

  /** Input and output names, types and shapes as the runtime reported them. */
  @Property({ type: 'json' })
  signature!: Record<string, unknown>;

  @Property({ type: 'json' })
  metrics: Opt<Record<string, number>> = {};

  @Enum({ items: () => VERSION_SOURCES, type: 'string', length: 16 })
  source!: VersionSource;

  @Property({ type: 'uuid', nullable: true })
  trainingRunId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  datasetVersionId: string | null = null;

  @Property({ type: 'string', length: 200, nullable: true })
  createdBy: string | null = null;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}

import { BigIntType, Entity, Enum, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';

export const INFERENCE_KINDS = ['CLASSIFY', 'PREDICT'] as const;
export type InferenceKind = (typeof INFERENCE_KINDS)[number];

/**
 * One audited call: who asked which model version about which input (its digest, never the
 * text), what came out, how long it took. A `classify` of many texts is one entry whose output
 * holds every text's label and scores: an entry per text cost more CPU than the classification
 * itself on the embedded database (see docs/decisions.md). Append-only, written in batches by the
 * audit writer. Model and version are plain columns, not foreign keys: the log outlives deleted
 * versions.
 */
@Entity({ tableName: 'inference_log' })
@Index({ properties: ['modelName', 'id'] })
@Index({ properties: ['modelVersionId', 'id'] })
@Index({ properties: ['createdAt'] })
export class InferenceLog {
  /** Increases with insertion: newest first is `id desc`. */
  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Enum({ items: () => INFERENCE_KINDS, type: 'string', length: 16 })
  kind!: InferenceKind;

  /** Who asked; null until sign-in exists (the security issue). */
  @Property({ type: 'string', length: 200, nullable: true })
  principal: string | null = null;

  @Property({ type: 'string', length: 128, nullable: true })
  requestId: string | null = null;

  @Property({ type: 'string', length: 64 })
  modelName!: string;

  @Property({ type: 'uuid' })
  modelVersionId!: string;

  @Property({ type: 'integer' })
  version!: number;

  /**
   * SHA-256, hex: of the text's UTF-8 for one text; of the texts' digests joined by newlines for
   * several; of the input tensors' JSON for `predict`.
   */
  @Property({ type: 'string', length: 64 })
  inputDigest!: string;

  /** Texts in the call (1 for `predict`). */
  @Property({ type: 'integer' })
  inputCount: Opt<number> = 1;

  /** Characters of all texts, or tensor elements. */
  @Property({ type: 'integer' })
  inputLength!: number;

  /** The winning label of a one-text `classify`; null otherwise. */
  @Property({ type: 'string', length: 64, nullable: true })
  label: string | null = null;

  /** `{ labels, predictions, scores }` for `classify`; output names and shapes for `predict`. */
  @Property({ type: 'json' })
  output!: Record<string, unknown>;

  /** Wall time of the call the input was part of. */
  @Property({ type: 'double' })
  latencyMs!: number;

  /** Texts answered from the result cache. */
  @Property({ type: 'integer' })
  cachedCount: Opt<number> = 0;
}

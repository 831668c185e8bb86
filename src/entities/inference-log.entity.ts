import { BigIntType, Entity, Enum, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';

export const INFERENCE_KINDS = ['CLASSIFY', 'PREDICT'] as const;
export type InferenceKind = (typeof INFERENCE_KINDS)[number];

/**
 * One audited inference: who asked which model version about which input (its digest, never the
 * text), what came out, how long it took. Append-only and written in batches by the audit writer.
 * Model and version are plain columns, not foreign keys: the log outlives deleted versions.
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

  /** SHA-256 of the input (the text's UTF-8, or the tensors' JSON), hex. */
  @Property({ type: 'string', length: 64 })
  inputDigest!: string;

  /** Characters of text, or tensor elements. */
  @Property({ type: 'integer' })
  inputLength!: number;

  /** The winning label; null for `predict`. */
  @Property({ type: 'string', length: 64, nullable: true })
  label: string | null = null;

  /** Scores per label for `classify`; output names and shapes for `predict`. */
  @Property({ type: 'json' })
  output!: Record<string, unknown>;

  /** Wall time of the call the input was part of. */
  @Property({ type: 'double' })
  latencyMs!: number;

  /** Answered from the result cache. */
  @Property({ type: 'boolean' })
  cached: Opt<boolean> = false;
}

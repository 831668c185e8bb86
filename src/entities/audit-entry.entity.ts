import { BigIntType, Entity, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';

/**
 * One mutation: who, what, on which ids, how it ended, when, in which request. Append-only: a
 * database trigger refuses UPDATE and DELETE (see the migration), so not even a bug here can
 * rewrite history.
 */
@Entity({ tableName: 'audit_log' })
@Index({ properties: ['principalId', 'id'] })
@Index({ properties: ['operation', 'id'] })
export class AuditEntry {
  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  /** The user (directly or through an API key); null for anonymous calls such as `login`. */
  @Property({ type: 'uuid', nullable: true })
  principalId: string | null = null;

  /** `user`, `api-key` or `anonymous`. */
  @Property({ type: 'string', length: 16 })
  principalKind!: string;

  /** The API key's id when one was used. */
  @Property({ type: 'uuid', nullable: true })
  apiKeyId: string | null = null;

  /** The mutation's field name, e.g. `createModel`. */
  @Property({ type: 'string', length: 100 })
  operation!: string;

  /** Ids and names the mutation named or returned (never passwords, tokens or files). */
  @Property({ type: 'json' })
  targets!: Record<string, string>;

  /** `OK`, or the error code it failed with (`FORBIDDEN`, `BAD_USER_INPUT`, …). */
  @Property({ type: 'string', length: 32 })
  outcome!: string;

  @Property({ type: 'string', length: 128, nullable: true })
  requestId: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  ip: string | null = null;
}

import { Entity, Index, ManyToOne, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { User } from './user.entity.js';

/**
 * One sign-in and the chain of refresh tokens it rotates through (a token "family"). Access
 * tokens name it (`sid`), so revoking the session ends them too.
 */
@Entity({ tableName: 'auth_session' })
export class AuthSession {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: 'User', deleteRule: 'cascade' })
  @Index()
  user!: User;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;

  /** `logout`, `reuse` (a used refresh token came back), `disabled`. */
  @Property({ type: 'string', length: 32, nullable: true })
  revokedReason: string | null = null;
}

/** A refresh token, stored as its SHA-256 (it is random, so a slow hash adds nothing). Used once. */
@Entity({ tableName: 'refresh_token' })
export class RefreshToken {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: 'AuthSession', deleteRule: 'cascade' })
  @Index()
  session!: AuthSession;

  @Property({ type: 'string', length: 64, unique: true })
  tokenHash!: string;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  usedAt: Date | null = null;
}

/** The one-time link the first start prints (and `arena users link` makes): redeemed for a session. */
@Entity({ tableName: 'sign_in_link' })
export class SignInLink {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: 'User', deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'string', length: 64, unique: true })
  tokenHash!: string;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  usedAt: Date | null = null;
}

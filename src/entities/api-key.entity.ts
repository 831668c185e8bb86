import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { ROLES, type Role } from '../domain/index.js';
import type { User } from './user.entity.js';

/** A credential for a service client: acts as its user, with at most that user's role. */
@Entity({ tableName: 'api_key' })
export class ApiKey {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: 'User', deleteRule: 'cascade' })
  @Index()
  user!: User;

  @Property({ type: 'string', length: 100 })
  name!: string;

  /** The key's first characters, shown in listings so people can tell keys apart. */
  @Property({ type: 'string', length: 16 })
  prefix!: string;

  /** SHA-256 of the whole key; the key itself is shown once and never stored. */
  @Property({ type: 'string', length: 64, unique: true })
  keyHash!: string;

  @Enum({ items: () => ROLES, type: 'string', length: 16 })
  role!: Role;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime', nullable: true })
  expiresAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;
}

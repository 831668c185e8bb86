import { Entity, Enum, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { ROLES, type Role } from '../domain/index.js';

/** A person (or a script's identity). Never deleted: disabled instead, so ownership and the audit log keep meaning. */
@Entity({ tableName: 'app_user' })
export class User {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  /** Normalized (trimmed, lower case). */
  @Property({ type: 'string', length: 254 })
  @Unique()
  email!: string;

  /** An argon2id PHC string; its parameters travel with it. */
  @Property({ type: 'text', hidden: true })
  passwordHash!: string;

  @Enum({ items: () => ROLES, type: 'string', length: 16 })
  role!: Role;

  @Property({ type: 'boolean' })
  disabled: Opt<boolean> = false;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'datetime' })
  updatedAt: Opt<Date> = new Date();
}

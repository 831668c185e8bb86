import { Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';

/**
 * Secrets every process of a deployment must share (the JWT signing key), made once by whichever
 * process needs one first. ARENA_JWT_SECRET overrides it.
 */
@Entity({ tableName: 'app_secret' })
export class AppSecret {
  @PrimaryKey({ type: 'string', length: 64 })
  name!: string;

  @Property({ type: 'text', hidden: true })
  value!: string;

  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();
}

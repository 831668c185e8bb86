import { MikroORM, defineConfig, type EntityManager } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Config } from '../config/index.js';
import { ENTITIES } from '../entities/index.js';
import type { Logger } from '../logger.js';
import { MIGRATIONS } from '../migrations/index.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

export type DatabaseKind = 'pglite' | 'postgres';

export interface Readiness {
  readonly ok: boolean;
  readonly reason?: string;
}

export class Database {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly kind: DatabaseKind,
    readonly orm: MikroORM,
    private readonly embedded: EmbeddedPostgres | undefined,
  ) {}

  static async open(config: Pick<Config, 'databaseUrl' | 'dataDir'>, log: Logger): Promise<Database> {
    const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, log);
    try {
      const orm = await MikroORM.init(
        defineConfig({
          clientUrl: config.databaseUrl ?? embedded!.url,
          entities: ENTITIES,
          discovery: { warnWhenNoEntities: false },
          extensions: [Migrator],
          migrations: { migrationsList: MIGRATIONS, transactional: true, allOrNothing: true, snapshot: false },
          // PGlite is a single Postgres session: one connection, shared by everything.
          pool: embedded ? { min: 0, max: 1 } : { min: 0, max: 10 },
          // Every request and job forks its own EntityManager; the global one must stay unused.
          allowGlobalContext: false,
          debug: false,
          logger: (message) => log.debug({ orm: true }, message),
        }),
      );
      return new Database(embedded ? 'pglite' : 'postgres', orm, embedded);
    } catch (error) {
      await embedded?.close();
      throw error;
    }
  }

  /** A fresh unit of work, for one request or one job. */
  fork(): EntityManager {
    return this.orm.em.fork();
  }

  /** Applies pending migrations; returns the names applied. */
  async migrate(): Promise<string[]> {
    const applied = await this.orm.getMigrator().up();
    return applied.map((m) => m.name);
  }

  async pendingMigrations(): Promise<string[]> {
    const pending = await this.orm.getMigrator().getPendingMigrations();
    return pending.map((m) => m.name);
  }

  async readiness(): Promise<Readiness> {
    try {
      await this.orm.em.getConnection().execute('select 1');
    } catch (error) {
      return { ok: false, reason: `database unreachable: ${(error as Error).message}` };
    }
    const pending = await this.pendingMigrations().catch((error: Error) => [`(could not read migrations: ${error.message})`]);
    if (pending.length > 0) return { ok: false, reason: `migrations not applied: ${pending.join(', ')}` };
    return { ok: true };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.orm.close(true);
      await this.embedded?.close();
    })();
    return this.closing;
  }
}

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * Where one test's data lives. With DATABASE_URL / REDIS_URL set (CI's real services) each test
 * gets a database and a Redis key prefix of its own; without them, a fresh embedded data dir.
 */
export interface TestBackend {
  readonly mode: 'embedded' | 'scaled';
  readonly env: Record<string, string>;
  cleanup(): Promise<void>;
}

export const scaled = Boolean(process.env['DATABASE_URL'] || process.env['REDIS_URL']);

const suffix = () => randomBytes(4).toString('hex');

export async function createTestBackend(): Promise<TestBackend> {
  const cleanups: (() => Promise<void>)[] = [];
  const env: Record<string, string> = {};
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'arena-test-'));
  env['ARENA_DATA_DIR'] = dataDir;
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

  const databaseUrl = process.env['DATABASE_URL'];
  if (databaseUrl) {
    const url = new URL(databaseUrl);
    const name = `${url.pathname.slice(1) || 'arena'}_t${suffix()}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    url.pathname = `/${name}`;
    env['DATABASE_URL'] = url.toString();
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    });
  }

  const redisUrl = process.env['REDIS_URL'];
  if (redisUrl) {
    const prefix = `${process.env['ARENA_REDIS_PREFIX'] ?? 'arena-test'}-${suffix()}`;
    env['REDIS_URL'] = redisUrl;
    env['ARENA_REDIS_PREFIX'] = prefix;
    cleanups.push(async () => {
      const redis = new Redis(redisUrl);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      await redis.quit();
    });
  }

  return {
    mode: databaseUrl || redisUrl ? 'scaled' : 'embedded',
    env,
    cleanup: async () => {
      for (const c of cleanups.reverse()) await c();
    },
  };
}

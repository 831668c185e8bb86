import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Config } from './config/index.js';
import { Database, type Readiness } from './db/database.js';
import type { Logger } from './logger.js';
import { LruResultCache, NoResultCache, RedisResultCache, type ResultCache } from './inference/result-cache.js';
import { createInProcessEventBus, createRedisEventBus, type EventBus } from './pubsub/index.js';
import { BullMqJobQueue, InProcessJobQueue, type JobQueue } from './queue/index.js';
import { createRedis } from './redis.js';
import { createServices, type Services } from './services/index.js';

/** Everything one process builds once: its connections, adapters and services. */
export interface Runtime {
  readonly config: Config;
  readonly log: Logger;
  readonly db: Database;
  readonly queue: JobQueue;
  readonly events: EventBus;
  readonly services: Services;
  readonly workerId: string;
  readonly startedAt: Date;
  /** Readiness of the Redis connections; undefined when Redis is not configured. */
  redisReadiness(): Promise<Readiness> | undefined;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Apply pending migrations before anything uses the database (true for start/serve/worker). */
  readonly migrate: boolean;
}

export async function createRuntime(config: Config, log: Logger, options: RuntimeOptions): Promise<Runtime> {
  const db = await Database.open(config, log);
  const redisClients: Redis[] = [];
  try {
    if (options.migrate) {
      const applied = await db.migrate();
      if (applied.length > 0) log.info({ applied }, 'applied migrations');
    }
    let queue: JobQueue;
    let events: EventBus;
    let resultCache: ResultCache;
    let redis: Redis | undefined;
    const backoffMs = 1000;
    const { cacheTtlMs, cacheEntries } = config.inference;
    if (config.redisUrl) {
      const producer = createRedis(config.redisUrl, 'producer');
      const workerConnection = createRedis(config.redisUrl, 'worker');
      const publisher = createRedis(config.redisUrl, 'publisher');
      const subscriber = createRedis(config.redisUrl, 'subscriber');
      redisClients.push(producer, workerConnection, publisher, subscriber);
      redis = producer;
      for (const client of redisClients) client.on('error', (err) => log.warn({ err }, 'redis connection error'));
      queue = new BullMqJobQueue({
        connection: producer,
        workerConnection,
        prefix: config.redisPrefix,
        maxAttempts: config.jobMaxAttempts,
        backoffMs,
        // A dead worker's job must come back about when the reconciler gives up on its row.
        lockDurationMs: Math.min(30_000, Math.max(5_000, Math.floor(config.jobStaleAfterMs / 2))),
        log,
      });
      events = createRedisEventBus(publisher, subscriber, config.redisPrefix);
      resultCache = cacheTtlMs > 0 ? new RedisResultCache(producer, `${config.redisPrefix}:classify:`, cacheTtlMs, log) : new NoResultCache();
    } else {
      queue = new InProcessJobQueue(log, { maxAttempts: config.jobMaxAttempts, backoffMs });
      events = createInProcessEventBus();
      resultCache = cacheTtlMs > 0 ? new LruResultCache(cacheEntries, cacheTtlMs) : new NoResultCache();
    }
    const workerId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    const services = createServices({ config, db, queue, events, log, resultCache, redis, workerId, now: () => new Date() });
    await services.start();
    let closing: Promise<void> | undefined;
    return {
      config,
      log,
      db,
      queue,
      events,
      services,
      workerId,
      startedAt: new Date(),
      redisReadiness: () =>
        redisClients.length === 0
          ? undefined
          : Promise.all(redisClients.slice(0, 1).map((c) => c.ping()))
              .then((): Readiness => ({ ok: true }))
              .catch((error: Error): Readiness => ({ ok: false, reason: `redis unreachable: ${error.message}` })),
      close: () =>
        (closing ??= (async () => {
          await queue.close().catch((err) => log.warn({ err }, 'closing queues failed'));
          await services.close().catch((err) => log.warn({ err }, 'closing services failed'));
          await events.close().catch((err) => log.warn({ err }, 'closing pub/sub failed'));
          await Promise.all(redisClients.map((c) => c.quit().catch(() => c.disconnect())));
          await db.close();
        })()),
    };
  } catch (error) {
    for (const c of redisClients) c.disconnect();
    await db.close();
    throw error;
  }
}

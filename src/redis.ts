import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'producer' | 'worker' | 'subscriber' | 'publisher';

/**
 * Producers fail fast (a lost enqueue is recovered by the reconciler); BullMQ workers and pub/sub
 * subscribers must wait out a Redis restart instead, which `maxRetriesPerRequest: null` does.
 */
export function createRedis(url: string, role: RedisRole): Redis {
  const options: RedisOptions = {
    connectionName: `arena-${role}`,
    maxRetriesPerRequest: role === 'producer' || role === 'publisher' ? 2 : null,
    // ioredis 5.8.2+ can send its ready check (INFO) after a SUBSCRIBE queued during connect,
    // which Redis refuses on a subscribed connection (ioredis #2037, fixed in 6). A subscriber
    // sends nothing else, so it needs no ready check.
    enableReadyCheck: role !== 'subscriber',
    lazyConnect: false,
  };
  return new Redis(url, options);
}

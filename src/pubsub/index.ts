import { PubSub } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Redis } from 'ioredis';
import { EngineEventBus } from './engine.event-bus.js';
import type { EventBus } from './pubsub.port.js';

export type { EventBus } from './pubsub.port.js';
export { liveView } from './live-view.js';

export function createInProcessEventBus(): EventBus {
  return new EngineEventBus('in-process', new PubSub(), '');
}

/** publisher and subscriber must be separate connections: a subscribed Redis client can only listen. */
export function createRedisEventBus(publisher: Redis, subscriber: Redis, prefix: string): EventBus {
  const engine = new RedisPubSub({ publisher, subscriber });
  return new EngineEventBus('redis', engine, `${prefix}:events:`, async () => {
    await engine.close();
  });
}

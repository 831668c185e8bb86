import { randomBytes } from 'node:crypto';
import { createRedis } from '../../src/redis.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createInProcessEventBus, createRedisEventBus, type EventBus } from '../../src/pubsub/index.js';

const redisUrl = process.env['REDIS_URL'];
const buses: [string, () => EventBus][] = [['in-process', createInProcessEventBus]];
const opened: EventBus[] = [];
if (redisUrl) {
  buses.push([
    'redis',
    () => createRedisEventBus(createRedis(redisUrl, 'publisher'), createRedis(redisUrl, 'subscriber'), `arena-test-bus-${randomBytes(4).toString('hex')}`),
  ]);
}

afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
});

describe.each(buses)('%s event bus', (_name, create) => {
  const bus = create();
  opened.push(bus);

  it('is listening as soon as subscribe resolves, and delivers only its topic', async () => {
    const events = await bus.subscribe<{ n: number }>('battle.1');
    await bus.publish('battle.2', { n: -1 });
    await bus.publish('battle.1', { n: 1 });
    await bus.publish('battle.1', { n: 2 });
    expect((await events.next()).value).toEqual({ n: 1 });
    expect((await events.next()).value).toEqual({ n: 2 });
    await events.return?.();
  });

  it('delivers a copy, not the publisher’s object', async () => {
    const events = await bus.subscribe<{ when: string; list: number[] }>('t.copy');
    const payload = { when: '2026-01-01T00:00:00.000Z', list: [1] };
    await bus.publish('t.copy', payload);
    const got = (await events.next()).value;
    expect(got).toEqual(payload);
    expect(got).not.toBe(payload);
    await events.return?.();
  });

  it('ends the iterator on return, and a pending next() resolves done', async () => {
    const events = await bus.subscribe('t.end');
    const pending = events.next();
    await events.return?.();
    expect(await pending).toEqual({ value: undefined, done: true });
    await bus.publish('t.end', { late: true });
    expect(await events.next()).toEqual({ value: undefined, done: true });
  });
});

describe.each(buses)('%s event bus, closing', (_name, create) => {
  it('ends live subscriptions on close, and a later return() is harmless', async () => {
    const bus = create();
    const events = await bus.subscribe('t.closing');
    const pending = events.next();
    await bus.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    await expect(events.return!()).resolves.toEqual({ value: undefined, done: true });
    await bus.close(); // idempotent
  });
});

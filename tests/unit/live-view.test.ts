import { describe, expect, it } from 'vitest';
import { liveView } from '../../src/pubsub/index.js';
import { createInProcessEventBus } from '../../src/pubsub/index.js';

const isDone = (s: string) => s === 'done';

describe('liveView', () => {
  it('yields the current state, then events, and ends after the last one', async () => {
    const bus = createInProcessEventBus();
    const events = await bus.subscribe<string>('t');
    const view = liveView('queued', events, isDone);
    expect(await view.next()).toEqual({ value: 'queued', done: false });
    await bus.publish('t', 'running');
    await bus.publish('t', 'done');
    await bus.publish('t', 'after');
    expect(await view.next()).toEqual({ value: 'running', done: false });
    expect(await view.next()).toEqual({ value: 'done', done: false });
    expect(await view.next()).toEqual({ value: undefined, done: true });
  });

  it('ends at once when the current state is already the last', async () => {
    const bus = createInProcessEventBus();
    const view = liveView('done', await bus.subscribe<string>('t'), isDone);
    expect(await view.next()).toEqual({ value: 'done', done: false });
    expect(await view.next()).toEqual({ value: undefined, done: true });
  });

  it('return() ends a parked next() without waiting for an event (a client hung up on a quiet topic)', async () => {
    const bus = createInProcessEventBus();
    const view = liveView('queued', await bus.subscribe<string>('quiet'), isDone);
    await view.next();
    const parked = view.next();
    await expect(view.return!()).resolves.toEqual({ value: undefined, done: true });
    await expect(parked).resolves.toEqual({ value: undefined, done: true });
  });
});

import type { PubSubEngine } from 'graphql-subscriptions';
import type { EventBus } from './pubsub.port.js';

/** One subscriber's events, in order: a plain array queue and the reader parked on it, if any. */
class Listener<T> implements AsyncIterableIterator<T> {
  private queue: T[] = [];
  private head = 0;
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private done = false;

  constructor(private readonly onEnd: (listener: Listener<T>) => void) {}

  /** Called synchronously by the topic for each event. */
  push(value: T): void {
    if (this.done) return;
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting({ value, done: false });
    } else {
      this.queue.push(value);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head]!;
      this.queue[this.head++] = undefined as T;
      // Compact once the consumed prefix dominates, so a long-lived queue stays small.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Ends the stream: a parked next() resolves done, queued events are dropped. Idempotent. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.queue = [];
    this.head = 0;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.({ value: undefined, done: true });
    this.onEnd(this);
  }

  async return(): Promise<IteratorResult<T>> {
    this.end();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/** A topic this process listens to: one engine subscription, however many local subscribers. */
interface Topic {
  readonly listeners: Set<Listener<unknown>>;
  /** The engine's subscription id, once subscribed. */
  readonly id: Promise<number>;
  /** The same, once known: unsubscribing must not wait a tick (see close()). */
  subscribed?: number;
}

/**
 * An EventBus over any graphql-subscriptions engine (in-memory PubSub or RedisPubSub).
 *
 * One engine subscription per topic per process, shared by every local subscriber: an event is
 * received (and, over Redis, parsed) once and handed to each subscriber's queue synchronously, so
 * a thousand clients of one battle cost a thousand array pushes per event, not a thousand engine
 * handlers and event emitters. Every subscriber of a topic gets the same payload object, which
 * lets the WebSocket fan-out serialize it once (src/server/ws-fanout.ts): payloads are read-only.
 *
 * Unlike the engines' own iterators, which subscribe lazily on the first `next()`, this one is
 * listening by the time `subscribe` resolves, so "subscribe, then read current state" never
 * loses an event published in between.
 */
export class EngineEventBus implements EventBus {
  private readonly topics = new Map<string, Topic>();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    readonly kind: EventBus['kind'],
    private readonly engine: PubSubEngine,
    /** Namespaces channels per deployment or test run when Redis is shared. */
    private readonly channelPrefix: string,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  publish(topic: string, payload: unknown): Promise<void> {
    // In memory, subscribers would otherwise share the publisher's object; Redis's JSON round
    // trip copies anyway. Both modes must behave alike.
    return this.engine.publish(this.channelPrefix + topic, this.kind === 'in-process' ? structuredClone(payload) : payload);
  }

  async subscribe<T>(name: string): Promise<AsyncIterableIterator<T>> {
    if (this.closed) throw new Error('the event bus is closed');
    let topic = this.topics.get(name);
    if (!topic) {
      const listeners = new Set<Listener<unknown>>();
      const id = this.engine.subscribe(this.channelPrefix + name, (payload: unknown) => {
        for (const listener of listeners) listener.push(payload);
      }, {});
      const created: Topic = { listeners, id };
      topic = created;
      this.topics.set(name, created);
      id.then(
        (value) => (created.subscribed = value),
        () => {
          if (this.topics.get(name) === created) this.topics.delete(name);
        },
      );
    }
    const current = topic;
    const listener = new Listener<T>((l) => this.leave(name, current, l as Listener<unknown>));
    current.listeners.add(listener as Listener<unknown>);
    try {
      await current.id;
    } catch (error) {
      current.listeners.delete(listener as Listener<unknown>);
      throw error;
    }
    return listener;
  }

  /** The last subscriber of a topic to leave unsubscribes the engine. */
  private leave(name: string, topic: Topic, listener: Listener<unknown>): void {
    topic.listeners.delete(listener);
    if (topic.listeners.size > 0 || this.topics.get(name) !== topic) return;
    this.topics.delete(name);
    // At once when the id is known: close() ends subscriptions and then closes the connection in
    // the same tick, and an UNSUBSCRIBE sent after QUIT rejects unhandled inside the engine. After
    // close() the connection is gone, and unsubscribing would only fail.
    if (this.closed) return;
    if (topic.subscribed !== undefined) this.engine.unsubscribe(topic.subscribed);
    else void topic.id.then((id) => !this.closed && this.engine.unsubscribe(id)).catch(() => {});
  }

  /**
   * Ends live subscriptions first, while the connection is still open (graphql-redis-
   * subscriptions fires its UNSUBSCRIBE without awaiting it; sent after QUIT it would reject
   * unhandled), then closes the engine. Idempotent.
   */
  close(): Promise<void> {
    if (!this.closing) {
      for (const topic of [...this.topics.values()]) for (const listener of [...topic.listeners]) listener.end();
      this.closed = true;
      this.closing = this.onClose();
    }
    return this.closing;
  }
}

import { EventEmitter, on } from 'node:events';
import type { PubSubEngine } from 'graphql-subscriptions';
import type { EventBus } from './pubsub.port.js';

/**
 * An EventBus over any graphql-subscriptions engine (in-memory PubSub or RedisPubSub).
 * Unlike the engines' own iterators, which subscribe lazily on the first `next()`, this one is
 * listening by the time `subscribe` resolves, so "subscribe, then read current state" never
 * loses an event published in between.
 */
export class EngineEventBus implements EventBus {
  /** Ends each live subscription; run before the engine closes. */
  private readonly live = new Set<() => void>();
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

  async subscribe<T>(topic: string): Promise<AsyncIterableIterator<T>> {
    const local = new EventEmitter();
    const abort = new AbortController();
    const events = on(local, 'event', { signal: abort.signal }) as AsyncIterableIterator<[T]>;
    const id = await this.engine.subscribe(this.channelPrefix + topic, (payload: T) => local.emit('event', payload), {});
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      this.live.delete(end);
      // After close() the connection is gone; unsubscribing then would only fail.
      if (!this.closed) this.engine.unsubscribe(id);
      abort.abort();
    };
    this.live.add(end);
    const finish = async (): Promise<IteratorResult<T>> => {
      end();
      return { value: undefined, done: true };
    };
    const iterator: AsyncIterableIterator<T> = {
      next: async () => {
        if (done) return { value: undefined, done: true };
        try {
          const result = await events.next();
          return result.done ? finish() : { value: result.value[0], done: false };
        } catch (error) {
          if (abort.signal.aborted) return { value: undefined, done: true };
          throw error;
        }
      },
      return: finish,
      throw: async (error?: unknown) => {
        await finish();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return iterator;
  }

  /**
   * Ends live subscriptions first, while the connection is still open (graphql-redis-
   * subscriptions fires its UNSUBSCRIBE without awaiting it; sent after QUIT it would reject
   * unhandled), then closes the engine. Idempotent.
   */
  close(): Promise<void> {
    if (!this.closing) {
      for (const end of [...this.live]) end();
      this.closed = true;
      this.closing = this.onClose();
    }
    return this.closing;
  }
}

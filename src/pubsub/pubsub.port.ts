/**
 * Domain events on narrow topics (`ping.<id>`, later `battle.<id>`, `training.<id>`), so a
 * subscription hears only what it asked for. Payloads are plain JSON: they may cross Redis.
 */
export interface EventBus {
  readonly kind: 'redis' | 'in-process';
  publish(topic: string, payload: unknown): Promise<void>;
  /** Listening starts before the returned promise resolves, so nothing published afterwards is missed. */
  subscribe<T>(topic: string): Promise<AsyncIterableIterator<T>>;
  close(): Promise<void>;
}

/**
 * A running battle's live events, at most one pair (its rounds, its counters) per `intervalMs`:
 * a battle at full speed stores a batch every few milliseconds, and a thousand subscribers each
 * handed every batch would cost the worker more than the battle itself. The first batch after a
 * quiet spell goes out at once (no added latency for a slow battle); batches that come faster are
 * merged and sent when the interval is up. `flush()` sends what is held; sends never overlap and
 * keep their order.
 */
export class RoundPublisher<R, V> {
  private pending: R[] = [];
  private latest: V | undefined;
  private last = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (rounds: readonly R[], view: V) => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A stored batch and the battle's counters after it; resolves once sent, or at once when held. */
  add(rounds: readonly R[], view: V): Promise<void> {
    for (const r of rounds) this.pending.push(r);
    this.latest = view;
    const wait = this.last + this.intervalMs - this.now();
    if (wait <= 0) return this.flush();
    this.timer ??= setTimeout(() => void this.flush().catch(this.onError), wait);
    return Promise.resolve();
  }

  /** Sends whatever is held; resolves when everything added so far has been sent. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const view = this.latest;
    if (view !== undefined) {
      const rounds = this.pending;
      this.pending = [];
      this.latest = undefined;
      this.last = this.now();
      // After a failed send (already reported to whoever awaited it), the next one still goes.
      this.chain = this.chain.catch(() => {}).then(() => this.send(rounds, view));
    }
    return this.chain;
  }
}

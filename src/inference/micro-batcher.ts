interface Pending<I, O> {
  readonly items: readonly I[];
  readonly resolve: (outputs: O[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Coalesces concurrent calls into one: items submitted within `windowMs` of the first pending one
 * (or until `maxItems` are waiting) go to `run` together, and each caller gets its own slice back.
 * `windowMs` 0 adds no wait: it gathers the calls that reach the batcher in the same turn of the
 * event loop (requests parsed from the sockets together), then runs them before the next turn.
 * `windowMs` null turns batching off: every call runs alone, at once.
 */
export class MicroBatcher<I, O> {
  private pending: Pending<I, O>[] = [];
  private count = 0;
  /** Cancels the scheduled flush, if one is. */
  private cancel: (() => void) | undefined;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly windowMs: number | null,
    private readonly maxItems: number,
  ) {}

  submit(items: readonly I[]): Promise<O[]> {
    if (this.windowMs === null || items.length >= this.maxItems) return this.run([...items]);
    return new Promise<O[]>((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      this.count += items.length;
      if (this.count >= this.maxItems) this.flush();
      else if (!this.cancel) this.schedule(this.windowMs!);
    });
  }

  private schedule(windowMs: number): void {
    if (windowMs === 0) {
      const immediate = setImmediate(() => this.flush());
      this.cancel = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => this.flush(), windowMs);
      this.cancel = () => clearTimeout(timer);
    }
  }

  private flush(): void {
    this.cancel?.();
    this.cancel = undefined;
    const batch = this.pending;
    this.pending = [];
    this.count = 0;
    if (batch.length === 0) return;
    const all = batch.flatMap((p) => p.items);
    this.run(all).then(
      (outputs) => {
        let offset = 0;
        for (const p of batch) {
          p.resolve(outputs.slice(offset, offset + p.items.length));
          offset += p.items.length;
        }
      },
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
  }
}

interface Pending<I, O> {
  readonly items: readonly I[];
  readonly resolve: (outputs: O[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Coalesces concurrent calls into one: items submitted within `windowMs` of the first pending one
 * (or until `maxItems` are waiting) go to `run` together, and each caller gets its own slice back.
 * With `windowMs` 0 every call runs alone, at once.
 */
export class MicroBatcher<I, O> {
  private pending: Pending<I, O>[] = [];
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly windowMs: number,
    private readonly maxItems: number,
  ) {}

  submit(items: readonly I[]): Promise<O[]> {
    if (this.windowMs <= 0 || items.length >= this.maxItems) return this.run([...items]);
    return new Promise<O[]>((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      this.count += items.length;
      if (this.count >= this.maxItems) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
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

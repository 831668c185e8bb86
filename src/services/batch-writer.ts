import type { Logger } from '../logger.js';

export interface BatchWriterOptions {
  readonly flushMs: number;
  /** Rows per INSERT. */
  readonly batchSize?: number;
  /** Entries held while the database is unreachable; beyond it the oldest are dropped (and counted). */
  readonly maxBuffered?: number;
}

/**
 * An append-only log written off the response path: `record` only appends to a buffer; a timer
 * (or a full batch) writes it with multi-row INSERTs. A failed write keeps the entries for the
 * next try; `close` writes what is left.
 */
export class BatchWriter<T> {
  private buffer: T[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Entries dropped because the buffer was full (the database was down for long). */
  dropped = 0;
  written = 0;
  private readonly batchSize: number;
  private readonly maxBuffered: number;

  constructor(
    /** What is written, for log lines ("the inference audit log"). */
    private readonly name: string,
    private readonly write: (batch: readonly T[]) => Promise<void>,
    private readonly log: Logger,
    private readonly options: BatchWriterOptions,
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.maxBuffered = options.maxBuffered ?? 200_000;
  }

  record(entries: readonly T[]): void {
    if (entries.length === 0) return;
    for (const e of entries) this.buffer.push(e);
    if (this.buffer.length > this.maxBuffered) {
      const excess = this.buffer.length - this.maxBuffered;
      this.buffer.splice(0, excess);
      this.dropped += excess;
      this.log.warn({ dropped: excess }, `${this.name}: buffer full; oldest entries dropped`);
    }
    if (this.closed) return;
    if (this.buffer.length >= this.batchSize) setImmediate(() => void this.flush());
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.options.flushMs);
      this.timer.unref();
    }
  }

  /** Writes everything buffered so far. Resolves when it is stored (or the write failed and was kept). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.buffer.length > 0 ? this.flush() : undefined));
    if (this.buffer.length === 0) return Promise.resolve();
    this.flushing = this.writeAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      try {
        await this.write(batch);
        this.written += batch.length;
      } catch (err) {
        this.buffer.unshift(...batch);
        this.log.error({ err, pending: this.buffer.length }, `writing ${this.name} failed; will retry`);
        if (!this.closed && !this.timer) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            void this.flush();
          }, Math.max(this.options.flushMs, 1000));
          this.timer.unref();
        }
        return;
      }
    }
  }

  /** Entries waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    if (this.buffer.length > 0) this.log.error({ lost: this.buffer.length }, `${this.name}: entries could not be written before shutdown`);
  }
}

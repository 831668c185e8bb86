import type { Database } from '../../db/database.js';
import type { InferenceKind } from '../../entities/index.js';
import type { Logger } from '../../logger.js';

export interface AuditEntry {
  readonly kind: InferenceKind;
  readonly principal: string | null;
  readonly requestId: string | null;
  readonly modelName: string;
  readonly modelVersionId: string;
  readonly version: number;
  readonly inputDigest: string;
  readonly inputCount: number;
  readonly inputLength: number;
  readonly label: string | null;
  readonly output: Record<string, unknown>;
  readonly latencyMs: number;
  readonly cachedCount: number;
  readonly createdAt: Date;
}

/**
 * One INSERT … SELECT over a single JSON parameter: Postgres unpacks the rows itself, cheaper than
 * binding 14 parameters per row through the ORM (the embedded database shares the API's thread).
 */
async function insertEntries(db: Database, batch: readonly AuditEntry[]): Promise<void> {
  const rows = batch.map((e) => ({
    created_at: e.createdAt.toISOString(),
    kind: e.kind,
    principal: e.principal,
    request_id: e.requestId,
    model_name: e.modelName,
    model_version_id: e.modelVersionId,
    version: e.version,
    input_digest: e.inputDigest,
    input_count: e.inputCount,
    input_length: e.inputLength,
    label: e.label,
    output: e.output,
    latency_ms: e.latencyMs,
    cached_count: e.cachedCount,
  }));
  await db
    .fork()
    .getConnection()
    .execute(
      `insert into inference_log (created_at, kind, principal, request_id, model_name, model_version_id, version, input_digest, input_count, input_length, label, output, latency_ms, cached_count)
       select created_at, kind, principal, request_id, model_name, model_version_id, version, input_digest, input_count, input_length, label, output, latency_ms, cached_count
         from jsonb_to_recordset(?::jsonb) as r(created_at timestamptz, kind text, principal varchar(200), request_id varchar(128), model_name varchar(64),
              model_version_id uuid, version int, input_digest varchar(64), input_count int, input_length int, label varchar(64), output jsonb,
              latency_ms double precision, cached_count int)`,
      [JSON.stringify(rows)],
    );
}

export interface AuditWriterOptions {
  readonly flushMs: number;
  /** Rows per INSERT. */
  readonly batchSize?: number;
  /** Entries held while the database is unreachable; beyond it the oldest are dropped (and counted). */
  readonly maxBuffered?: number;
}

/**
 * The inference audit log, off the response path: `record` only appends to a buffer; a timer (or
 * a full batch) writes it with multi-row INSERTs. A failed write keeps the entries for the next
 * try; `close` writes what is left.
 */
export class AuditWriter {
  private buffer: AuditEntry[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Entries dropped because the buffer was full (the database was down for long). */
  dropped = 0;
  written = 0;
  private readonly batchSize: number;
  private readonly maxBuffered: number;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    private readonly options: AuditWriterOptions,
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.maxBuffered = options.maxBuffered ?? 200_000;
  }

  record(entries: readonly AuditEntry[]): void {
    if (entries.length === 0) return;
    for (const e of entries) this.buffer.push(e);
    if (this.buffer.length > this.maxBuffered) {
      const excess = this.buffer.length - this.maxBuffered;
      this.buffer.splice(0, excess);
      this.dropped += excess;
      this.log.warn({ dropped: excess }, 'inference audit buffer full; oldest entries dropped');
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
        await insertEntries(this.db, batch);
        this.written += batch.length;
      } catch (err) {
        this.buffer.unshift(...batch);
        this.log.error({ err, pending: this.buffer.length }, 'writing the inference audit log failed; will retry');
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
    if (this.buffer.length > 0) this.log.error({ lost: this.buffer.length }, 'inference audit entries could not be written before shutdown');
  }
}

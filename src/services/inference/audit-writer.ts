import type { Database } from '../../db/database.js';
import type { InferenceKind } from '../../entities/index.js';
import type { Logger } from '../../logger.js';
import { BatchWriter, type BatchWriterOptions } from '../batch-writer.js';

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

/** The inference audit log: one entry per classify/predict call. */
export class AuditWriter extends BatchWriter<AuditEntry> {
  constructor(db: Database, log: Logger, options: BatchWriterOptions) {
    super('the inference audit log', (batch) => insertEntries(db, batch), log, options);
  }
}

import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditEntry } from '../entities/index.js';
import type { Principal } from './auth/principals.js';
import { mayAdminister } from './authz.js';
import { BatchWriter } from './batch-writer.js';
import type { ServiceDeps } from './context.js';

export interface MutationRecord {
  readonly principal: Principal | null;
  readonly operation: string;
  readonly targets: Record<string, string>;
  /** `OK` or an error code. */
  readonly outcome: string;
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly createdAt: Date;
}

export interface AuditEntryView {
  readonly id: number;
  readonly createdAt: string;
  readonly principalId: string | null;
  readonly principalKind: string;
  readonly apiKeyId: string | null;
  readonly operation: string;
  readonly targets: Record<string, string>;
  readonly outcome: string;
  readonly requestId: string | null;
  readonly ip: string | null;
}

export interface AuditFilter {
  readonly principalId?: string | null;
  readonly operation?: string | null;
  readonly outcome?: string | null;
  readonly since?: Date | null;
  readonly until?: Date | null;
}

const toView = (e: AuditEntry): AuditEntryView => ({
  id: e.id,
  createdAt: e.createdAt.toISOString(),
  principalId: e.principalId,
  principalKind: e.principalKind,
  apiKeyId: e.apiKeyId,
  operation: e.operation,
  targets: e.targets,
  outcome: e.outcome,
  requestId: e.requestId,
  ip: e.ip,
});

/**
 * Who did what: one entry per mutation, written in batches off the response path (a crash loses
 * at most the last flush interval), append-only in the database. Read by admins.
 */
export class AuditLogService {
  private readonly writer: BatchWriter<MutationRecord>;

  constructor(private readonly deps: ServiceDeps) {
    this.writer = new BatchWriter('the audit log', (batch) => this.insert(batch), deps.log, { flushMs: deps.config.inference.auditFlushMs });
  }

  record(entry: MutationRecord): void {
    this.writer.record([entry]);
  }

  private async insert(batch: readonly MutationRecord[]): Promise<void> {
    const rows = batch.map((e) => ({
      created_at: e.createdAt.toISOString(),
      principal_id: e.principal?.id ?? null,
      principal_kind: e.principal?.kind ?? 'anonymous',
      api_key_id: e.principal?.apiKeyId ?? null,
      operation: e.operation,
      targets: e.targets,
      outcome: e.outcome,
      request_id: e.requestId,
      ip: e.ip,
    }));
    await this.deps.db
      .fork()
      .getConnection()
      .execute(
        `insert into audit_log (created_at, principal_id, principal_kind, api_key_id, operation, targets, outcome, request_id, ip)
         select created_at, principal_id, principal_kind, api_key_id, operation, targets, outcome, request_id, ip
           from jsonb_to_recordset(?::jsonb) as r(created_at timestamptz, principal_id uuid, principal_kind varchar(16), api_key_id uuid,
                operation varchar(100), targets jsonb, outcome varchar(32), request_id varchar(128), ip varchar(64))`,
        [JSON.stringify(rows)],
      );
  }

  /** Newest first. Writes this process's pending entries first, so a caller sees its own mutations. */
  async list(em: EntityManager, actor: Principal | null, filter: AuditFilter, first: number, afterId: number | undefined) {
    mayAdminister(actor, 'read the audit log');
    await this.writer.flush();
    const where: Record<string, unknown> = {};
    if (filter.principalId) where['principalId'] = filter.principalId;
    if (filter.operation) where['operation'] = filter.operation;
    if (filter.outcome) where['outcome'] = filter.outcome;
    if (filter.since || filter.until) where['createdAt'] = { ...(filter.since ? { $gte: filter.since } : {}), ...(filter.until ? { $lt: filter.until } : {}) };
    const rows = await em.find(AuditEntry, afterId === undefined ? where : { ...where, id: { $lt: afterId } }, { orderBy: { id: 'desc' }, limit: first + 1 });
    return { nodes: rows.slice(0, first).map(toView), hasMore: rows.length > first, totalCount: () => em.count(AuditEntry, where) };
  }

  get pending(): number {
    return this.writer.pending;
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}

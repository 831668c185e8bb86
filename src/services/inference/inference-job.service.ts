import type { EntityManager } from '@mikro-orm/postgresql';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { argmax, canRead, checkText, isAdmin, isUuid, type JobStatus } from '../../domain/index.js';
import { InferenceJob, InferenceResult, type JobRowRepository, type PageRequest } from '../../entities/index.js';
import { AppError, badInput, notFound } from '../../errors.js';
import { PermanentJobError, type JobContext } from '../../queue/index.js';
import type { ArtifactStore } from '../../storage/artifact-store.js';
import type { Principal, PrincipalDirectory } from '../auth/principals.js';
import { authorizedEvents, mayCreate, privateTo, signedIn } from '../authz.js';
import type { ServiceDeps } from '../context.js';
import { spoolUpload } from '../uploads.js';
import { runJob } from '../job-runner.js';
import { dispatchJob, listJobs, watchJob, type JobListFilter } from '../job-views.js';
import type { VersionRef } from '../registry.service.js';
import type { InferenceService } from './inference.service.js';

export interface InferenceJobView {
  readonly id: string;
  readonly model: string;
  readonly alias: string | null;
  readonly version: number;
  readonly modelVersionId: string;
  readonly status: JobStatus;
  readonly total: number;
  readonly processed: number;
  readonly failed: number;
  /** processed / total, 0 to 1. */
  readonly progress: number;
  /** Texts per second. */
  readonly throughput: number | null;
  readonly attempts: number;
  readonly workerId: string | null;
  readonly error: string | null;
  readonly principal: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface SubmitInferenceJob extends VersionRef {
  /** Inline texts, or… */
  readonly texts?: readonly string[] | null;
  /** …a JSON Lines file: one JSON string, or one `{ "text": … }` object, per line. */
  readonly file?: Readable | null;
}

export interface InferenceResultView {
  readonly index: number;
  readonly label: string | null;
  readonly scores: { label: string; score: number }[] | null;
  readonly error: string | null;
}

export interface InferenceStatsView {
  readonly total: number;
  readonly queued: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  /** completed / (completed + failed), null before any job finished. */
  readonly successRate: number | null;
  readonly textsProcessed: number;
  readonly textsFailed: number;
  /** Texts per second over the completed jobs' running time. */
  readonly throughput: number | null;
}

/** Texts scored per onnxruntime run and stored per INSERT; progress is published once per chunk. */
const CHUNK = 2000;
const MAX_PROBLEMS = 5;
const topic = (id: string) => `inferenceJob.${id}`;

function toView(row: InferenceJob): InferenceJobView {
  return {
    id: row.id,
    model: row.modelName,
    alias: row.alias,
    version: row.version,
    modelVersionId: row.modelVersionId,
    status: row.status,
    total: row.total,
    processed: row.processed,
    failed: row.failed,
    progress: row.total === 0 ? 1 : row.processed / row.total,
    throughput: row.throughput,
    attempts: row.attempts,
    workerId: row.workerId,
    error: row.error,
    principal: row.principal,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/** Parses JSON Lines texts, reporting the first bad lines by number. */
async function readTextLines(file: string, maxTexts: number): Promise<string[]> {
  const texts: string[] = [];
  const problems: string[] = [];
  let line = 0;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const raw of lines) {
    line++;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      if (problems.length < MAX_PROBLEMS) problems.push(`line ${line}: not JSON (each line must be a JSON string or an object with a "text" string)`);
      continue;
    }
    const text = typeof value === 'string' ? value : (value as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') {
      if (problems.length < MAX_PROBLEMS) problems.push(`line ${line}: no text (expected a JSON string or {"text": "…"})`);
      continue;
    }
    texts.push(text);
    if (texts.length > maxTexts) {
      lines.close();
      throw badInput(`The file holds more than ${maxTexts} texts (ARENA_INFERENCE_JOB_MAX_TEXTS); split it into several jobs.`, { field: 'file' });
    }
  }
  if (problems.length > 0) throw badInput(`The file has bad lines:\n${problems.join('\n')}`, { field: 'file', problems });
  return texts;
}

const encodeTexts = (texts: readonly string[]) => Buffer.from(texts.map((t) => JSON.stringify(t)).join('\n'), 'utf8');

const decodeTexts = (bytes: Buffer): string[] => {
  const body = bytes.toString('utf8');
  return body.length === 0 ? [] : body.split('\n').map((l) => JSON.parse(l) as string);
};

/**
 * Bulk classification: a mutation pins the model version, stores the texts as one artifact and
 * enqueues a job; a worker scores them in chunks, storing results and publishing progress, and
 * resumes from the last stored chunk after a retry.
 */
export class InferenceJobService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly inference: InferenceService,
    private readonly artifacts: ArtifactStore,
    private readonly principals: PrincipalDirectory,
  ) {}

  async submit(em: EntityManager, actor: Principal | null, input: SubmitInferenceJob): Promise<InferenceJobView> {
    const limits = this.deps.config.inference;
    let owner: Principal;
    try {
      owner = mayCreate(actor);
    } catch (error) {
      input.file?.resume();
      throw error;
    }
    const hasTexts = input.texts !== undefined && input.texts !== null;
    if (hasTexts === Boolean(input.file)) {
      input.file?.resume();
      throw badInput('Give the texts either inline (texts) or as a JSON Lines file (file), not both or neither.', { field: 'texts' });
    }
    let meta;
    try {
      meta = await this.inference.resolve(em, input, owner);
    } catch (error) {
      input.file?.resume();
      throw error;
    }
    if (meta.featurizerSpec === null) {
      input.file?.resume();
      throw badInput(`${meta.modelName} is a ${meta.task} model; bulk jobs classify text with text-classification models.`, { field: 'model' });
    }
    let texts: readonly string[];
    if (hasTexts) {
      texts = input.texts!;
    } else {
      const spooled = await spoolUpload(this.deps.config, input.file!);
      try {
        texts = await readTextLines(spooled.path, limits.jobMaxTexts);
      } finally {
        await spooled.remove();
      }
    }
    if (texts.length === 0) throw badInput('A bulk job needs at least one text.', { field: hasTexts ? 'texts' : 'file' });
    if (texts.length > limits.jobMaxTexts) {
      throw badInput(`${texts.length} texts; a bulk job takes up to ${limits.jobMaxTexts} (ARENA_INFERENCE_JOB_MAX_TEXTS).`, { field: 'texts' });
    }
    const stored = await this.artifacts.put(encodeTexts(texts), 'jsonl');
    const now = this.deps.now();
    const row = em.create(InferenceJob, {
      modelName: meta.modelName,
      alias: meta.alias ?? null,
      modelVersionId: meta.id,
      version: meta.version,
      inputKey: stored.key,
      total: texts.length,
      principal: owner.id,
      createdAt: now,
      updatedAt: now,
    });
    try {
      await em.flush();
    } catch (error) {
      if (stored.created) await this.artifacts.delete(stored.key);
      throw error;
    }
    await this.dispatch(row.id);
    return toView(row);
  }

  dispatch(id: string): Promise<void> {
    return dispatchJob(this.deps, 'inference', { inferenceJobId: id }, id);
  }

  /** Null when there is no such job or the caller may not see it (jobs are their submitter's). */
  async get(em: EntityManager, actor: Principal | null, id: string): Promise<InferenceJobView | null> {
    const me = signedIn(actor);
    if (!isUuid(id)) return null;
    const row = await em.findOne(InferenceJob, { id });
    return row && canRead(me, privateTo(row.principal)) ? toView(row) : null;
  }

  /** The caller's bulk jobs (everyone's for admins), newest first. */
  list(em: EntityManager, actor: Principal | null, page: PageRequest, filter: JobListFilter = {}) {
    return listJobs(em, InferenceJob, signedIn(actor), page, filter, toView);
  }

  /** Results in input order, keyset-paginated on the index; optionally one label's only. */
  async results(em: EntityManager, actor: Principal | null, jobId: string, first: number, afterIndex: number | undefined, label: string | null | undefined) {
    const me = signedIn(actor);
    const job = isUuid(jobId) ? await em.findOne(InferenceJob, { id: jobId }) : null;
    if (!job || !canRead(me, privateTo(job.principal))) throw notFound('inference job', jobId);
    const [model] = await em.getConnection().execute<{ labels: string[] }[]>('select labels from model where name = ?', [job.modelName]);
    const labels = model?.labels ?? [];
    const where = { jobId, ...(label ? { label } : {}) };
    const rows = await em.find(InferenceResult, afterIndex === undefined ? where : { ...where, idx: { $gt: afterIndex } }, {
      orderBy: { idx: 'asc' },
      limit: first + 1,
    });
    const nodes: InferenceResultView[] = rows.slice(0, first).map((r) => ({
      index: r.idx,
      label: r.label,
      scores: r.scores ? r.scores.map((score, i) => ({ label: labels[i] ?? String(i), score })) : null,
      error: r.error,
    }));
    return { nodes, hasMore: rows.length > first, totalCount: () => em.fork().count(InferenceResult, where) };
  }

  /** Totals over the caller's jobs (everyone's for admins), for one model or all. */
  async stats(em: EntityManager, actor: Principal | null, model: string | null | undefined): Promise<InferenceStatsView> {
    const me = signedIn(actor);
    const conditions: string[] = [];
    const params: string[] = [];
    if (model) {
      conditions.push('model_name = ?');
      params.push(model);
    }
    if (!isAdmin(me)) {
      conditions.push('principal = ?');
      params.push(me.id);
    }
    const [row] = await em.getConnection().execute<Record<string, string | number | null>[]>(
      `select count(*)::int as total,
              count(*) filter (where status = 'QUEUED')::int as queued,
              count(*) filter (where status = 'RUNNING')::int as running,
              count(*) filter (where status = 'SUCCEEDED')::int as completed,
              count(*) filter (where status = 'FAILED')::int as failed,
              count(*) filter (where status = 'CANCELLED')::int as cancelled,
              coalesce(sum(processed), 0)::bigint as texts_processed,
              coalesce(sum(failed), 0)::bigint as texts_failed,
              sum(processed) filter (where status = 'SUCCEEDED') as done_texts,
              sum(extract(epoch from finished_at - started_at)) filter (where status = 'SUCCEEDED') as done_seconds
         from inference_job ${conditions.length > 0 ? `where ${conditions.join(' and ')}` : ''}`,
      params,
    );
    const n = (v: unknown) => Number(v ?? 0);
    const finished = n(row!['completed']) + n(row!['failed']);
    const seconds = n(row!['done_seconds']);
    return {
      total: n(row!['total']),
      queued: n(row!['queued']),
      running: n(row!['running']),
      completed: n(row!['completed']),
      failed: n(row!['failed']),
      cancelled: n(row!['cancelled']),
      successRate: finished === 0 ? null : n(row!['completed']) / finished,
      textsProcessed: n(row!['texts_processed']),
      textsFailed: n(row!['texts_failed']),
      throughput: seconds > 0 ? n(row!['done_texts']) / seconds : null,
    };
  }

  /** The job's current state, then every change until it finishes (see watchJob). */
  async watch(actor: Principal | null, id: string): Promise<AsyncIterableIterator<InferenceJobView>> {
    const me = signedIn(actor);
    const events = await watchJob(this.deps, topic(id), 'inference job', id, () => this.get(this.deps.db.fork(), me, id));
    return authorizedEvents(this.principals, me, events, (view) => canRead(me, privateTo(view.principal)));
  }

  async publishCurrent(em: EntityManager, id: string): Promise<void> {
    const row = isUuid(id) ? await em.findOne(InferenceJob, { id }) : null;
    const view = row ? toView(row) : null;
    if (view) await this.deps.events.publish(topic(id), view);
  }

  /** The worker side. */
  execute(inferenceJobId: string, ctx: JobContext): Promise<void> {
    return runJob<InferenceJob>({
      em: this.deps.db.fork(),
      repository: (em) => em.getRepository(InferenceJob) as JobRowRepository<InferenceJob>,
      id: inferenceJobId,
      workerId: this.deps.workerId,
      ctx,
      maxAttempts: this.deps.config.jobMaxAttempts,
      heartbeatMs: Math.max(1000, Math.floor(this.deps.config.jobStaleAfterMs / 4)),
      publish: (row) => this.deps.events.publish(topic(row.id), toView(row)),
      work: (row, signal) => this.work(row, signal),
    });
  }

  private async work(row: InferenceJob, signal: AbortSignal): Promise<Partial<InferenceJob>> {
    const maxTextLength = this.deps.config.inference.maxTextLength;
    let texts: string[];
    try {
      texts = decodeTexts(await this.artifacts.get(row.inputKey));
    } catch (error) {
      throw new PermanentJobError(`the job's texts could not be read: ${(error as Error).message}`);
    }
    // Resume after the last stored result (a retry, or a job handed back at shutdown).
    const em = this.deps.db.fork();
    const done = await em.count(InferenceResult, { jobId: row.id });
    let failed = done === 0 ? 0 : await em.count(InferenceResult, { jobId: row.id, error: { $ne: null } });
    let processed = done;
    const started = performance.now();
    let labels: readonly string[] = [];
    for (let start = done; start < texts.length; start += CHUNK) {
      signal.throwIfAborted();
      const chunk = texts.slice(start, start + CHUNK);
      const results: Pick<InferenceResult, 'jobId' | 'idx' | 'label' | 'scores' | 'error'>[] = [];
      const valid: number[] = [];
      chunk.forEach((text, k) => {
        const problem = checkText(text, maxTextLength);
        if (problem) results.push({ jobId: row.id, idx: start + k, label: null, scores: null, error: `text ${problem}` });
        else valid.push(k);
      });
      if (valid.length > 0) {
        let scored;
        try {
          scored = await this.inference.scoreTexts(row.modelVersionId, valid.map((k) => chunk[k]!));
        } catch (error) {
          if (error instanceof AppError) throw new PermanentJobError(error.message);
          throw error;
        }
        labels = scored.labels;
        valid.forEach((k, j) => {
          const p = scored.rows[j]!;
          results.push({ jobId: row.id, idx: start + k, label: labels[argmax(p)] ?? null, scores: Array.from(p, float32), error: null });
        });
      }
      await insertResults(this.deps, row.id, results);
      processed += chunk.length;
      failed += chunk.length - valid.length;
      const throughput = (processed - done) / ((performance.now() - started) / 1000);
      const moved = await this.deps.db
        .fork()
        .nativeUpdate(InferenceJob, { id: row.id, workerId: this.deps.workerId, status: 'RUNNING' }, { processed, failed, throughput, updatedAt: this.deps.now() });
      if (moved === 0) throw new Error('job is no longer held by this worker');
      Object.assign(row, { processed, failed, throughput });
      await this.deps.events.publish(topic(row.id), toView(row));
    }
    const throughput = processed > done ? (processed - done) / ((performance.now() - started) / 1000) : row.throughput;
    return { processed, failed, throughput };
  }
}

/**
 * One statement per chunk, its rows as a single JSON parameter unpacked by Postgres (cheaper than
 * binding 5 parameters per row through the ORM). Rows already stored (a retried chunk) are kept.
 */
async function insertResults(deps: ServiceDeps, jobId: string, results: readonly Pick<InferenceResult, 'idx' | 'label' | 'scores' | 'error'>[]): Promise<void> {
  await deps.db
    .fork()
    .getConnection()
    .execute(
      `insert into inference_result (job_id, idx, label, scores, error)
       select ?::uuid, idx, label, scores, error
         from jsonb_to_recordset(?::jsonb) as r(idx int, label varchar(64), scores jsonb, error text)
       on conflict (job_id, idx) do nothing`,
      [jobId, JSON.stringify(results.map((r) => ({ idx: r.idx, label: r.label, scores: r.scores, error: r.error })))],
    );
}

/** A float32 to 9 significant digits, which read back as the same float32: half the JSON of a double. */
const float32 = (x: number) => Number(x.toPrecision(9));

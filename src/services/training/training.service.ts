import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  argmax,
  canRead,
  DEFAULT_FEATURIZER_SPEC,
  evaluateClassification,
  featurizeBatch,
  isAdmin,
  isTerminal,
  isUuid,
  parseFeaturizerSpec,
  parseRunnerLine,
  checkTrainingSetup,
  type ClassificationMetrics,
  type FeaturizerSpec,
  type JobStatus,
  type RunnerMessage,
} from '../../domain/index.js';
import { Dataset, DatasetVersion, Model, ModelEvaluation, TrainingLog, TrainingMetric, TrainingRun, type JobRowRepository, type PageRequest, type TrainingStepRecord } from '../../entities/index.js';
import { AppError, badInput, notFound } from '../../errors.js';
import { OnnxSession } from '../../inference/onnx-session.js';
import { PermanentJobError, type JobContext } from '../../queue/index.js';
import type { Principal, PrincipalDirectory } from '../auth/principals.js';
import { authorizedEvents, mayCreate, mayManage, privateTo, signedIn } from '../authz.js';
import type { ServiceDeps } from '../context.js';
import type { InferenceService } from '../inference/inference.service.js';
import { runJob } from '../job-runner.js';
import { STREAM_END, assertCancellable, dispatchJob, listJobs, watchJob, watchUntilEnd, type JobListFilter } from '../job-views.js';
import { noSuchModel, type RegistryService } from '../registry.service.js';
import { DeviceAllocator, NoGpuError, type DeviceLease } from './devices.js';
import { RUNNER_PERMANENT_EXIT, runRunner, type RunnerSpec } from './runner-process.js';

export interface StartTrainingRunInput {
  readonly model: string;
  readonly datasetVersionId: string;
  readonly hyperparameters?: Record<string, unknown> | null;
  readonly featurizerSpec?: Record<string, unknown> | null;
  readonly runner?: string | null;
}

export interface TrainingRunView {
  readonly id: string;
  readonly model: string;
  readonly datasetVersionId: string;
  readonly runner: string;
  readonly status: JobStatus;
  readonly device: string | null;
  readonly hyperparameters: Record<string, unknown>;
  readonly featurizerSpec: Record<string, unknown>;
  readonly steps: readonly TrainingStepRecord[];
  readonly progress: number;
  readonly evaluation: Record<string, unknown> | null;
  readonly resultVersionId: string | null;
  readonly resultVersion: number | null;
  readonly promoted: boolean;
  readonly garbageLines: number;
  readonly attempts: number;
  readonly workerId: string | null;
  readonly error: string | null;
  readonly principal: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface MetricPointView {
  readonly runId: string;
  readonly seq: number;
  readonly name: string;
  readonly value: number;
  readonly step: number | null;
  readonly epoch: number | null;
  readonly at: string;
}

export interface TrainingLogView {
  readonly seq: number;
  readonly level: string;
  readonly message: string;
  readonly at: string;
}

export interface EvaluationView {
  readonly id: string;
  readonly model: string;
  readonly version: number;
  readonly modelVersionId: string;
  readonly datasetVersionId: string;
  readonly metrics: ClassificationMetrics;
  readonly createdAt: string;
}

export interface PromotionResult {
  readonly model: string;
  readonly version: number;
  readonly previousChampion: number | null;
  readonly forced: boolean;
  readonly challengerF1: number | null;
  readonly championF1: number | null;
}

/** What the worker side needs beyond the deps: the devices of this process and the runners it knows. */
export interface TrainingRuntime {
  readonly allocator: DeviceAllocator;
  readonly runners: ReadonlyMap<string, RunnerSpec>;
}

const topic = (id: string) => `training.${id}`;
const metricsTopic = (id: string) => `training.${id}.metrics`;
const controlTopic = (id: string) => `training.${id}.control`;

const EXPORT_PAGE = 5_000;
const SCORE_CHUNK = 2_000;
/** Metric points and log lines are written in batches this often. */
const FLUSH_MS = 200;
/** Garbage lines kept (quoted) in the run's log; more are only counted. */
const GARBAGE_LOGGED = 5;
const MAX_LOG_MESSAGE = 2_000;

function toView(row: TrainingRun): TrainingRunView {
  return {
    id: row.id,
    model: row.modelName,
    datasetVersionId: row.datasetVersionId,
    runner: row.runner,
    status: row.status,
    device: row.device,
    hyperparameters: row.hyperparameters,
    featurizerSpec: row.featurizerSpec,
    steps: row.steps,
    progress: row.progress,
    evaluation: row.evaluation,
    resultVersionId: row.resultVersionId,
    resultVersion: row.resultVersion,
    promoted: row.promoted,
    garbageLines: row.garbageLines,
    attempts: row.attempts,
    workerId: row.workerId,
    error: row.error,
    principal: row.principal,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

const noSuchRun = (id: string) => notFound('training run', id);

/**
 * Training runs: the mutation validates everything it can (model, dataset version, runner,
 * hyperparameters) and queues the run; a worker runs its steps, streaming the runner's metrics and
 * logs, registers the result as `challenger`, compares it with the champion on the same test split
 * and, when the model's policy says so and it wins, makes it champion (every process reloads it).
 */
export class TrainingService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly registry: RegistryService,
    private readonly inference: InferenceService,
    private readonly principals: PrincipalDirectory,
    private readonly runtime: TrainingRuntime,
  ) {}

  /** The runners startTrainingRun accepts here. */
  runners(actor: Principal | null): string[] {
    signedIn(actor);
    return this.runnerNames();
  }

  private runnerNames(): string[] {
    return [...this.runtime.runners.keys()];
  }

  /** `dispatch: false` leaves the enqueue to the caller (one writing the row inside its own transaction). */
  async start(em: EntityManager, actor: Principal | null, input: StartTrainingRunInput, options: { dispatch?: boolean } = {}): Promise<TrainingRunView> {
    const owner = mayCreate(actor);
    const model = mayManage(owner, await em.findOne(Model, { name: input.model }), () => noSuchModel(input.model), `model ${input.model}`);
    if (model.task !== 'text-classification') {
      throw badInput(`${model.name} is a ${model.task} model; training runs train text-classification models.`, { field: 'model' });
    }
    const version = await this.readableDatasetVersion(em, owner, input.datasetVersionId);
    const labels = version.dataset.labels;
    const unknown = labels.filter((l) => !model.labels.includes(l));
    if (unknown.length > 0) {
      throw badInput(`The dataset's labels ${JSON.stringify(unknown)} are not labels of model ${model.name} (${model.labels.join(', ')}).`, {
        field: 'datasetVersionId',
      });
    }
    const runnerName = input.runner ?? 'builtin';
    if (!this.runtime.runners.has(runnerName)) {
      throw badInput(`No runner named ${runnerName}; this platform has ${this.runnerNames().join(', ')} (configure more in ARENA_TRAINING_RUNNERS).`, {
        field: 'runner',
      });
    }
    // A spec given in part (`{ buckets: 4096 }`) keeps the platform default for the rest.
    const given = input.featurizerSpec ?? {};
    const featurizer = {
      ...DEFAULT_FEATURIZER_SPEC,
      ...given,
      normalization: { ...DEFAULT_FEATURIZER_SPEC.normalization, ...((given['normalization'] as object | undefined) ?? {}) },
    };
    // The built-in trainer's hyperparameters are checked here, in full; another runner's are its
    // own business (it refuses bad ones with exit code 3), so only the featurizer is checked for it.
    const builtin = runnerName === 'builtin';
    const checked = checkTrainingSetup({ hyperparameters: builtin ? (input.hyperparameters ?? {}) : {}, featurizer });
    if (!checked.ok) {
      throw badInput(`This run cannot be trained: ${checked.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, {
        field: checked.problems[0]!.field.startsWith('featurizer') ? 'featurizerSpec' : 'hyperparameters',
        problems: checked.problems,
      });
    }
    const spec = checked.value.featurizer;
    const now = this.deps.now();
    const row = em.create(TrainingRun, {
      modelName: model.name,
      datasetVersionId: version.id,
      runner: runnerName,
      hyperparameters: builtin ? (checked.value.hyperparameters as unknown as Record<string, unknown>) : { ...(input.hyperparameters ?? {}) },
      featurizerSpec: spec as unknown as Record<string, unknown>,
      principal: owner.id,
      evaluation: null,
      createdAt: now,
      updatedAt: now,
    });
    await em.flush();
    if (options.dispatch !== false) await this.dispatch(row.id);
    return toView(row);
  }

  dispatch(id: string): Promise<void> {
    return dispatchJob(this.deps, 'training', { trainingRunId: id }, id);
  }

  /** Null when there is no such run or the caller may not see it (runs are their starter's). */
  async get(em: EntityManager, actor: Principal | null, id: string): Promise<TrainingRunView | null> {
    const me = signedIn(actor);
    if (!isUuid(id)) return null;
    const row = await em.findOne(TrainingRun, { id });
    return row && canRead(me, privateTo(row.principal)) ? toView(row) : null;
  }

  /** The caller's runs (everyone's for admins), newest first. */
  list(em: EntityManager, actor: Principal | null, page: PageRequest, filter: JobListFilter = {}) {
    return listJobs(em, TrainingRun, signedIn(actor), page, filter, toView);
  }

  /** The metric series so far, in the order the points came (optionally one metric's). */
  async metrics(em: EntityManager, runId: string, name?: string | null): Promise<MetricPointView[]> {
    const rows = await em.find(TrainingMetric, { runId, ...(name ? { name } : {}) }, { orderBy: { seq: 'asc' } });
    return rows.map(toPoint);
  }

  async logs(em: EntityManager, runId: string, first: number, afterSeq: number | undefined) {
    const where = { runId, ...(afterSeq === undefined ? {} : { seq: { $gt: afterSeq } }) };
    const rows = await em.find(TrainingLog, where, { orderBy: { seq: 'asc' }, limit: first + 1 });
    const nodes: TrainingLogView[] = rows.slice(0, first).map((r) => ({ seq: r.seq, level: r.level, message: r.message, at: r.at.toISOString() }));
    return { nodes, hasMore: rows.length > first, totalCount: () => em.fork().count(TrainingLog, { runId }) };
  }

  /**
   * QUEUED or RUNNING → CANCELLED. The worker running it hears of it at once (an event on the
   * run's control topic, not its next heartbeat), stops the runner and frees the device.
   */
  async cancel(em: EntityManager, actor: Principal | null, id: string): Promise<TrainingRunView> {
    const me = signedIn(actor);
    const row = isUuid(id) ? await em.findOne(TrainingRun, { id }) : null;
    mayManage(me, row ? privateTo(row.principal) : null, () => noSuchRun(id), 'this training run');
    assertCancellable(row!.status, 'training run', id);
    const changed = await em.getRepository(TrainingRun).cancel(id, `cancelled by ${me.email}`);
    await this.deps.events.publish(controlTopic(id), { cancel: true });
    const fresh = await em.fork().findOneOrFail(TrainingRun, { id });
    if (changed) await this.publishView(fresh);
    return toView(fresh);
  }

  /** The run's current state, then every change until it finishes, while the caller may see it. */
  async watch(actor: Principal | null, id: string): Promise<AsyncIterableIterator<TrainingRunView>> {
    const me = signedIn(actor);
    const events = await watchJob(this.deps, topic(id), 'training run', id, () => this.get(this.deps.db.fork(), me, id));
    return authorizedEvents(this.principals, me, events, (view) => canRead(me, privateTo(view.principal)));
  }

  /**
   * Every metric point as it is produced, until the run ends. Points made before subscribing are
   * in trainingRun { metrics }; a run that already ended completes at once.
   */
  async watchMetrics(actor: Principal | null, runId: string): Promise<AsyncIterableIterator<MetricPointView>> {
    const me = signedIn(actor);
    const points = await watchUntilEnd<MetricPointView>(this.deps, metricsTopic(runId), 'training run', runId, () => this.get(this.deps.db.fork(), me, runId));
    return authorizedEvents(this.principals, me, points, () => true);
  }

  async publishCurrent(em: EntityManager, id: string): Promise<void> {
    const row = isUuid(id) ? await em.findOne(TrainingRun, { id }) : null;
    if (row) await this.publishView(row);
  }

  private async publishView(row: TrainingRun): Promise<void> {
    await this.deps.events.publish(topic(row.id), toView(row));
    if (isTerminal(row.status)) await this.deps.events.publish(metricsTopic(row.id), STREAM_END);
  }

  /** A model version's metrics on a dataset version's test split, stored for later comparison. */
  async evaluate(em: EntityManager, actor: Principal | null, input: { model: string; version: number; datasetVersionId: string }): Promise<EvaluationView> {
    const me = mayCreate(actor);
    const meta = await this.registry.resolveVersion(em, { model: input.model, version: input.version }, me);
    if (!meta.featurizerSpec) throw badInput(`${meta.modelName} is a ${meta.task} model; evaluation scores text-classification models.`, { field: 'model' });
    const version = await this.readableDatasetVersion(em, me, input.datasetVersionId);
    const test = await this.readSplit(em, version, 'test');
    if (test.texts.length === 0) throw badInput(`Dataset version ${version.id} has no test split to evaluate on.`, { field: 'datasetVersionId' });
    const { rows } = await this.inference.scoreTexts(meta.id, test.texts);
    const metrics = evaluateClassification(test.labels, rows.map((p) => meta.labels[argmax(p)]!), meta.labels);
    const stored = newEvaluation(em, meta.id, version.id, metrics, me.id, this.deps.now());
    await em.flush();
    return { id: stored.id, model: meta.modelName, version: meta.version, modelVersionId: meta.id, datasetVersionId: version.id, metrics, createdAt: stored.createdAt.toISOString() };
  }

  /**
   * Makes a version champion when it beats the current champion on a test split both were
   * evaluated on (by the model's margin); an admin may force it. The refusal says what is missing.
   */
  async promote(em: EntityManager, actor: Principal | null, input: { model: string; version: number; force?: boolean | null }): Promise<PromotionResult> {
    const me = signedIn(actor);
    const model = mayManage(me, await em.findOne(Model, { name: input.model }), () => noSuchModel(input.model), `model ${input.model}`);
    const challenger = await this.registry.resolveVersion(em, { model: model.name, version: input.version }, me);
    let champion;
    try {
      champion = await this.registry.resolveVersion(em, { model: model.name, alias: 'champion' }, me);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'NOT_FOUND')) throw error;
      champion = null;
    }
    const forced = Boolean(input.force);
    if (forced && !isAdmin(me)) throw new AppError('FORBIDDEN', 'Only admins can force a promotion.', { role: me.role });
    let challengerF1: number | null = null;
    let championF1: number | null = null;
    if (champion && champion.id !== challenger.id) {
      const pair = await this.latestSharedEvaluation(em, challenger.id, champion.id);
      challengerF1 = pair?.challenger ?? null;
      championF1 = pair?.champion ?? null;
      if (!forced) {
        if (!pair) {
          throw new AppError(
            'CONFLICT',
            `Version ${challenger.version} and the champion (version ${champion.version}) were never evaluated on the same dataset version; run evaluateModelVersion for both first.`,
            { reason: 'NOT_EVALUATED' },
          );
        }
        if (!(pair.challenger > pair.champion + model.promotionMargin)) {
          throw new AppError(
            'CONFLICT',
            `Version ${challenger.version} is not better than the champion (version ${champion.version}): F1 ${pair.challenger.toFixed(4)} vs ${pair.champion.toFixed(4)} (margin ${model.promotionMargin}).`,
            { reason: 'NOT_BETTER', challengerF1: pair.challenger, championF1: pair.champion },
          );
        }
      }
    }
    await this.registry.moveAlias(em, model.name, 'champion', challenger.version);
    await em.nativeUpdate(TrainingRun, { resultVersionId: challenger.id }, { promoted: true });
    return { model: model.name, version: challenger.version, previousChampion: champion?.version ?? null, forced, challengerF1, championF1 };
  }

  /** The worker side. */
  execute(trainingRunId: string, ctx: JobContext): Promise<void> {
    let unsubscribe: (() => Promise<void>) | undefined;
    return runJob<TrainingRun>({
      em: this.deps.db.fork(),
      repository: (em) => em.getRepository(TrainingRun) as JobRowRepository<TrainingRun>,
      id: trainingRunId,
      workerId: this.deps.workerId,
      ctx,
      maxAttempts: this.deps.config.jobMaxAttempts,
      heartbeatMs: Math.max(1000, Math.floor(this.deps.config.jobStaleAfterMs / 4)),
      publish: (row) => this.publishView(row),
      watch: async (abort) => {
        const control = await this.deps.events.subscribe<{ cancel?: boolean }>(controlTopic(trainingRunId));
        void (async () => {
          for await (const message of { [Symbol.asyncIterator]: () => control }) if (message.cancel) abort(new Error('cancelled'));
        })();
        unsubscribe = async () => void (await control.return?.());
      },
      work: async (row, signal) => {
        try {
          return await new TrainingAttempt(this.deps, this.registry, this.inference, this.runtime, row, ctx, signal, (r) => this.publishView(r)).run();
        } finally {
          await unsubscribe?.();
        }
      },
    });
  }

  private async readableDatasetVersion(em: EntityManager, actor: Principal, id: string): Promise<DatasetVersion> {
    const missing = () => new AppError('NOT_FOUND', `No dataset version with id ${id}.`, { field: 'datasetVersionId' });
    if (!isUuid(id)) throw missing();
    const version = await em.findOne(DatasetVersion, { id }, { populate: ['dataset'] });
    if (!version || !canRead(actor, version.dataset)) throw missing();
    return version;
  }

  private readSplit(em: EntityManager, version: DatasetVersion, split: 'train' | 'test') {
    return readSplit(em, version, split);
  }

  /** The newest dataset version both versions were evaluated on, with each one's macro F1 there. */
  private async latestSharedEvaluation(em: EntityManager, challengerId: string, championId: string): Promise<{ challenger: number; champion: number } | null> {
    const rows = await em.getConnection().execute<{ challenger: number; champion: number }[]>(
      `select (a.metrics->>'macroF1')::float8 as challenger, (b.metrics->>'macroF1')::float8 as champion
         from model_evaluation a join model_evaluation b on a.dataset_version_id = b.dataset_version_id
        where a.model_version_id = ? and b.model_version_id = ?
        order by greatest(a.created_at, b.created_at) desc limit 1`,
      [challengerId, championId],
    );
    return rows[0] ?? null;
  }
}

/** A model version's metrics on a dataset version's test split, to be flushed by the caller. */
function newEvaluation(em: EntityManager, modelVersionId: string, datasetVersionId: string, metrics: ClassificationMetrics, by: string | null, at: Date): ModelEvaluation {
  return em.create(ModelEvaluation, {
    id: randomUUID(),
    modelVersionId,
    datasetVersionId,
    metrics: metrics as unknown as Record<string, unknown>,
    createdBy: by,
    createdAt: at,
  });
}

/** A version's examples of one split, oldest first, as parallel arrays. */
async function readSplit(em: EntityManager, version: DatasetVersion, split: 'train' | 'test'): Promise<{ texts: string[]; labels: string[] }> {
  const repo = em.getRepository(Dataset);
  const texts: string[] = [];
  const labels: string[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await repo.pageExamples(version.lineage, after, EXPORT_PAGE, { split });
    for (const e of page) {
      texts.push(e.text);
      labels.push(e.label);
    }
    if (page.length < EXPORT_PAGE) return { texts, labels };
    after = page.at(-1)!.id;
  }
}

function toPoint(r: TrainingMetric): MetricPointView {
  return { runId: r.runId, seq: r.seq, name: r.name, value: r.value, step: r.step, epoch: r.epoch, at: r.at.toISOString() };
}

/**
 * One attempt at a run, step by step. Steps, metrics and logs are written as they happen, so a
 * subscriber (or a late reader of trainingRun) sees the run move; a failure is permanent when no
 * retry can fix it (bad data, a runner that says so, a bad artifact) and retryable otherwise.
 */
class TrainingAttempt {
  private readonly em: EntityManager;
  private metricSeq = 0;
  private logSeq = 0;
  private pendingMetrics: TrainingMetric[] = [];
  private pendingLogs: TrainingLog[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private writes: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private lease: DeviceLease | undefined;
  private readonly workDir: string;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly registry: RegistryService,
    private readonly inference: InferenceService,
    private readonly runtime: TrainingRuntime,
    private readonly row: TrainingRun,
    private readonly ctx: JobContext,
    private readonly signal: AbortSignal,
    private readonly publish: (row: TrainingRun) => Promise<void>,
  ) {
    this.em = deps.db.fork();
    this.workDir = path.join(deps.config.dataDir, 'tmp', 'training', `${row.id}-${ctx.attempt}`);
  }

  async run(): Promise<Partial<TrainingRun>> {
    const [metrics, logs] = await Promise.all([
      this.em.getConnection().execute<{ n: number }[]>('select coalesce(max(seq), 0)::int as n from training_metric where run_id = ?', [this.row.id]),
      this.em.getConnection().execute<{ n: number }[]>('select coalesce(max(seq), 0)::int as n from training_log where run_id = ?', [this.row.id]),
    ]);
    this.metricSeq = metrics[0]!.n;
    this.logSeq = logs[0]!.n;
    // A retry starts its steps afresh; the log keeps what the earlier attempts did.
    this.row.steps = [];
    this.row.progress = 0;
    await rm(this.workDir, { recursive: true, force: true });
    await mkdir(this.workDir, { recursive: true });
    this.log('info', `attempt ${this.ctx.attempt} on worker ${this.deps.workerId}`);
    try {
      return await this.steps();
    } finally {
      this.lease?.release();
      await this.writes;
      await this.flush();
      await rm(this.workDir, { recursive: true, force: true }).catch(() => {});
    }
  }

  private async steps(): Promise<Partial<TrainingRun>> {
    const row = this.row;
    const runner = this.runtime.runners.get(row.runner);
    if (!runner) throw new PermanentJobError(`this worker has no runner named ${row.runner} (ARENA_TRAINING_RUNNERS)`);

    const data = await this.step('validate', async () => {
      const version = await this.em.findOne(DatasetVersion, { id: row.datasetVersionId }, { populate: ['dataset'] });
      if (!version) throw new PermanentJobError(`dataset version ${row.datasetVersionId} no longer exists`);
      const train = await readSplit(this.em, version, 'train');
      const test = await readSplit(this.em, version, 'test');
      const classes = new Set(train.labels);
      if (classes.size < 2) {
        throw new PermanentJobError(`the training split has ${classes.size === 0 ? 'no examples' : `only one class (${[...classes][0]})`}; a classifier needs at least two`);
      }
      if (test.texts.length === 0) throw new PermanentJobError('the dataset version has no test split to evaluate on');
      const trainFile = path.join(this.workDir, 'train.jsonl');
      const testFile = path.join(this.workDir, 'test.jsonl');
      await writeJsonl(trainFile, train);
      await writeJsonl(testFile, test);
      return { version, train, test, trainFile, testFile, detail: `${train.texts.length} train / ${test.texts.length} test examples, ${classes.size} classes` };
    });

    const prepared = await this.step('prepare', async () => {
      const model = await this.em.findOne(Model, { name: row.modelName });
      if (!model) throw new PermanentJobError(`model ${row.modelName} no longer exists`);
      let champion = null;
      try {
        champion = await this.registry.resolveVersion(this.em.fork(), { model: model.name, alias: 'champion' });
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'NOT_FOUND')) throw error;
      }
      const spec = parseFeaturizerSpec(row.featurizerSpec);
      return { model, champion, spec, detail: champion ? `champion is version ${champion.version}` : 'no champion yet' };
    });

    await this.step('allocate', async () => {
      try {
        this.lease = await this.runtime.allocator.acquire(runner.device, this.signal);
      } catch (error) {
        if (error instanceof NoGpuError) throw new Error(error.message); // another worker may have one: retry
        throw error;
      }
      row.device = this.lease.device;
      return { detail: this.lease.device };
    });

    const artifact = await this.step('train', async () => this.train(runner, prepared.model.labels, prepared.spec, data.trainFile, data.testFile));

    const scored = await this.step('evaluate', async () => {
      const inspected = await this.registry.inspectFile(this.em.fork(), prepared.model.name, artifact.file).catch((error: unknown) => {
        if (error instanceof AppError) throw new PermanentJobError(error.message);
        throw error;
      });
      const challenger = await scoreFile(artifact.file, parseFeaturizerSpec(inspected.featurizerSpec), data.test.texts, this.signal);
      const labels = prepared.model.labels;
      const challengerMetrics = evaluateClassification(data.test.labels, challenger.map((p) => labels[argmax(p)]!), labels);
      let championMetrics: ClassificationMetrics | null = null;
      if (prepared.champion) {
        const { rows } = await this.inference.scoreTexts(prepared.champion.id, data.test.texts);
        championMetrics = evaluateClassification(data.test.labels, rows.map((p) => prepared.champion!.labels[argmax(p)]!), prepared.champion.labels);
      }
      return {
        inspected,
        challenger: challengerMetrics,
        champion: championMetrics,
        detail: `test macro F1 ${challengerMetrics.macroF1.toFixed(4)}${championMetrics ? ` (champion ${championMetrics.macroF1.toFixed(4)})` : ''}`,
      };
    });

    const registered = await this.step('register', async () => {
      const version = await this.registry
        .registerArtifactFile(this.em.fork(), prepared.model.name, artifact.file, {
          metrics: { f1: scored.challenger.macroF1, accuracy: scored.challenger.accuracy, ...artifact.metrics },
          trainingRunId: row.id,
          datasetVersionId: data.version.id,
          createdBy: row.principal,
        }, scored.inspected)
        .catch((error: unknown) => {
          if (error instanceof AppError) throw new PermanentJobError(error.message);
          throw error;
        });
      await this.registry.moveAlias(this.em.fork(), prepared.model.name, 'challenger', version.version);
      const evaluations = this.em.fork();
      newEvaluation(evaluations, version.id, data.version.id, scored.challenger, row.principal, this.deps.now());
      if (prepared.champion && scored.champion) newEvaluation(evaluations, prepared.champion.id, data.version.id, scored.champion, row.principal, this.deps.now());
      await evaluations.flush();
      row.resultVersionId = version.id;
      row.resultVersion = version.version;
      return { version, detail: `version ${version.version}, alias challenger` };
    });

    const decision = await this.step('compare', async () => {
      const margin = prepared.model.promotionMargin;
      const wins = !scored.champion || scored.challenger.macroF1 > scored.champion.macroF1 + margin;
      const detail = scored.champion
        ? `challenger F1 ${scored.challenger.macroF1.toFixed(4)} vs champion ${scored.champion.macroF1.toFixed(4)} (margin ${margin}): ${wins ? 'better' : 'not better'}`
        : 'no champion to beat';
      return { wins, detail };
    });

    row.evaluation = {
      datasetVersionId: data.version.id,
      challenger: scored.challenger,
      champion: scored.champion,
      championVersion: prepared.champion?.version ?? null,
      margin: prepared.model.promotionMargin,
      better: decision.wins,
    };

    const promoted = await this.step('promote', async () => {
      if (!decision.wins) return { promoted: false, skipped: true, detail: 'kept the champion' };
      if (prepared.model.promotionPolicy === 'MANUAL') return { promoted: false, skipped: true, detail: 'manual policy: promote with promoteModelVersion' };
      await this.registry.moveAlias(this.em.fork(), prepared.model.name, 'champion', registered.version.version);
      return { promoted: true, skipped: false, detail: `version ${registered.version.version} is champion` };
    });

    return {
      device: row.device,
      steps: row.steps,
      progress: 1,
      evaluation: row.evaluation,
      resultVersionId: row.resultVersionId,
      resultVersion: row.resultVersion,
      promoted: promoted.promoted,
      garbageLines: row.garbageLines,
    };
  }

  /** Runs the runner to its end; the artifact it named, checked to be a file inside the work dir. */
  private async train(runner: RunnerSpec, labels: readonly string[], spec: FeaturizerSpec, trainFile: string, testFile: string) {
    const row = this.row;
    const configPath = path.join(this.workDir, 'config.json');
    await writeFile(
      configPath,
      JSON.stringify({
        protocol: 1,
        runId: row.id,
        workDir: this.workDir,
        // The test split doubles as the validation set the runner reports val_f1 on each epoch: for
        // watching only, nothing is chosen by it (no early stopping, no model selection).
        data: { train: trainFile, test: testFile, validation: testFile, labels },
        featurizer: spec,
        hyperparameters: row.hyperparameters,
        device: this.lease!.device === 'cpu' ? { kind: 'cpu', index: null } : { kind: 'cuda', index: 0 },
      }),
    );
    let artifact: Extract<RunnerMessage, { type: 'artifact' }> | undefined;
    let reported: Extract<RunnerMessage, { type: 'error' }> | undefined;
    let lastProgressWrite = 0;
    const exit = await runRunner(runner, configPath, {
      cwd: this.workDir,
      env: { CUDA_VISIBLE_DEVICES: this.lease!.cudaVisibleDevices, ARENA_RUN_ID: row.id },
      signal: this.signal,
      timeoutMs: this.deps.config.training.runTimeoutMs,
      onLine: (line) => {
        const parsed = line === null ? { ok: false as const, problem: 'a line longer than 64 KiB' } : parseRunnerLine(line);
        if (!parsed.ok) {
          row.garbageLines += 1;
          if (row.garbageLines <= GARBAGE_LOGGED) this.log('warn', `runner printed something that is not a protocol line (${parsed.problem}): ${(line ?? '').slice(0, 200)}`);
          return;
        }
        const m = parsed.message;
        switch (m.type) {
          case 'metric':
            this.metric(m.name, m.value, m.step ?? null, m.epoch ?? null);
            break;
          case 'log':
            this.log(m.level, m.message);
            break;
          case 'progress': {
            row.progress = m.fraction;
            const now = Date.now();
            if (now - lastProgressWrite > 500) {
              lastProgressWrite = now;
              void this.persist({ progress: m.fraction }).catch(() => {});
            }
            break;
          }
          case 'artifact':
            artifact = m;
            break;
          case 'error':
            reported = m;
            this.log('error', m.message);
            break;
        }
      },
    });
    if (exit.aborted) throw this.signal.reason instanceof Error ? this.signal.reason : new Error('aborted');
    const reason = reported?.message ?? (exit.stderrTail ? exit.stderrTail.split('\n').slice(-3).join(' | ') : '');
    if (exit.timedOut) throw new PermanentJobError(`the runner ran past ${this.deps.config.training.runTimeoutMs} ms (ARENA_TRAINING_RUN_TIMEOUT_MS) and was stopped`);
    if (exit.code !== 0) {
      const how = exit.code === null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const message = `the runner ${how}${reason ? `: ${reason}` : ''}`;
      if (exit.code === RUNNER_PERMANENT_EXIT || reported?.permanent) throw new PermanentJobError(message);
      throw new Error(message);
    }
    if (!artifact) throw new PermanentJobError(`the runner exited 0 without naming an artifact${row.garbageLines ? ` (${row.garbageLines} lines were not protocol messages)` : ''}`);
    const file = path.resolve(this.workDir, artifact.path);
    if (path.relative(this.workDir, file).startsWith('..') || path.isAbsolute(path.relative(this.workDir, file))) {
      throw new PermanentJobError(`the runner named an artifact outside its work directory: ${artifact.path}`);
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new PermanentJobError(`the runner named an artifact that does not exist: ${artifact.path}`);
    return { file, metrics: artifact.metrics ?? {}, detail: `${(info.size / 1024 / 1024).toFixed(1)} MiB ONNX${row.garbageLines ? `, ${row.garbageLines} garbage lines` : ''}` };
  }

  /** Records a step's start and end on the row and tells subscribers; a failed step fails the attempt. */
  private async step<T extends { detail?: string; skipped?: boolean }>(name: string, fn: () => Promise<T>): Promise<T> {
    this.signal.throwIfAborted();
    const record: TrainingStepRecord = { name, status: 'RUNNING', startedAt: this.deps.now().toISOString(), finishedAt: null, detail: null };
    this.row.steps = [...this.row.steps.filter((s) => s.name !== name), record];
    await this.persist({ steps: this.row.steps, device: this.row.device });
    try {
      const result = await fn();
      Object.assign(record, { status: result.skipped ? 'SKIPPED' : 'SUCCEEDED', finishedAt: this.deps.now().toISOString(), detail: result.detail ?? null });
      this.log('info', `${name}: ${result.detail ?? 'done'}`);
      await this.persist({ steps: this.row.steps, device: this.row.device, progress: this.row.progress, garbageLines: this.row.garbageLines });
      return result;
    } catch (error) {
      Object.assign(record, { status: 'FAILED', finishedAt: this.deps.now().toISOString(), detail: (error as Error).message?.slice(0, 500) ?? String(error) });
      this.log('error', `${name} failed: ${record.detail}`);
      await this.persist({ steps: this.row.steps, garbageLines: this.row.garbageLines }).catch(() => {});
      throw error;
    }
  }

  /** Writes columns of the row while this worker still holds it, and publishes the new state. */
  /**
   * Writes columns of the row while this worker still holds it, and publishes the new state.
   * Writes go one after another, and run() waits for the last before the attempt ends: a progress
   * write still in flight when the job finishes would otherwise land on the finished row in memory
   * (the row object is the one the job runner reloads and publishes).
   */
  private persist(data: Partial<TrainingRun>): Promise<void> {
    const write = this.writes.then(async () => {
      const moved = await this.deps.db
        .fork()
        .nativeUpdate(TrainingRun, { id: this.row.id, workerId: this.deps.workerId, status: 'RUNNING' }, { ...data, updatedAt: this.deps.now() });
      if (moved === 0) return;
      Object.assign(this.row, data);
      await this.publish(this.row);
    });
    this.writes = write.catch((err: unknown) => this.deps.log.warn({ err, runId: this.row.id }, 'recording a training run’s progress failed'));
    return write;
  }

  private metric(name: string, value: number, step: number | null, epoch: number | null): void {
    const point = Object.assign(new TrainingMetric(), { runId: this.row.id, seq: ++this.metricSeq, name, value, step, epoch, at: this.deps.now() });
    this.pendingMetrics.push(point);
    void this.deps.events.publish(metricsTopic(this.row.id), toPoint(point));
    this.scheduleFlush();
  }

  private log(level: string, message: string): void {
    const lvl = ['info', 'warn', 'error', 'debug'].includes(level) ? level : 'info';
    this.pendingLogs.push(Object.assign(new TrainingLog(), { runId: this.row.id, seq: ++this.logSeq, level: lvl, message: message.slice(0, MAX_LOG_MESSAGE), at: this.deps.now() }));
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, FLUSH_MS);
  }

  /** One INSERT per batch of points and one per batch of lines. */
  private flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const metrics = this.pendingMetrics.splice(0);
    const logs = this.pendingLogs.splice(0);
    this.flushing = this.flushing.then(async () => {
      if (metrics.length === 0 && logs.length === 0) return;
      const conn = this.deps.db.fork().getConnection();
      try {
        if (metrics.length > 0) {
          await conn.execute(
            `insert into training_metric (run_id, seq, name, value, step, epoch, at)
             select run_id, seq, name, value, step, epoch, at from jsonb_to_recordset(?::jsonb)
                 as r(run_id uuid, seq int, name varchar(64), value float8, step int, epoch int, at timestamptz)
             on conflict do nothing`,
            [JSON.stringify(metrics.map((m) => ({ run_id: m.runId, seq: m.seq, name: m.name, value: m.value, step: m.step, epoch: m.epoch, at: m.at })))],
          );
        }
        if (logs.length > 0) {
          await conn.execute(
            `insert into training_log (run_id, seq, level, message, at)
             select run_id, seq, level, message, at from jsonb_to_recordset(?::jsonb)
                 as r(run_id uuid, seq int, level varchar(8), message text, at timestamptz)
             on conflict do nothing`,
            [JSON.stringify(logs.map((l) => ({ run_id: l.runId, seq: l.seq, level: l.level, message: l.message, at: l.at })))],
          );
        }
      } catch (err) {
        this.deps.log.warn({ err, runId: this.row.id }, 'writing training metrics or logs failed');
      }
    });
    return this.flushing;
  }
}

async function writeJsonl(file: string, split: { texts: string[]; labels: string[] }): Promise<void> {
  const handle = await open(file, 'w');
  try {
    const lines: string[] = [];
    for (let i = 0; i < split.texts.length; i++) {
      lines.push(JSON.stringify({ text: split.texts[i], label: split.labels[i] }));
      if (lines.length === 1000 || i === split.texts.length - 1) {
        await handle.write(`${lines.join('\n')}\n`);
        lines.length = 0;
      }
    }
  } finally {
    await handle.close();
  }
}

/** Scores texts with an ONNX file not (yet) registered: a session of its own, released after. */
async function scoreFile(file: string, spec: FeaturizerSpec, texts: readonly string[], signal: AbortSignal): Promise<Float32Array[]> {
  const session = await OnnxSession.load(await readFile(file));
  try {
    const rows: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += SCORE_CHUNK) {
      signal.throwIfAborted();
      const chunk = texts.slice(start, start + SCORE_CHUNK);
      const { probabilities, classes } = await session.classify(featurizeBatch(chunk, spec));
      for (let i = 0; i < chunk.length; i++) rows.push(probabilities.slice(i * classes, (i + 1) * classes));
    }
    return rows;
  } finally {
    session.retire();
  }
}


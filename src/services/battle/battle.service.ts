import type { EntityManager } from '@mikro-orm/postgresql';
import { LRUCache } from 'lru-cache';
import {
  BattleEngine,
  PARAPHRASE_FALLBACK,
  STRATEGY_CATALOGUE,
  argmax,
  canRead,
  isAdmin,
  isTerminal,
  isUuid,
  validateBattleConfig,
  type BattleBatch,
  type BattleConfig,
  type BattleState,
  type BattleStats,
  type JobStatus,
  type SeedText,
  type StrategyInfo,
} from '../../domain/index.js';
import { Battle, BattleRoundRow, Dataset, DatasetVersion, Model, ModelVersion, TrainingRun, type JobRowRepository, type PageRequest } from '../../entities/index.js';
import { AppError, badInput, notFound } from '../../errors.js';
import { PermanentJobError, type JobContext } from '../../queue/index.js';
import type { Principal, PrincipalDirectory } from '../auth/principals.js';
import { authorizedEvents, mayCreate, mayManage, mayRead, privateTo, signedIn } from '../authz.js';
import type { ServiceDeps } from '../context.js';
import type { DatasetService } from '../dataset/index.js';
import type { InferenceService } from '../inference/inference.service.js';
import { runJob } from '../job-runner.js';
import { STREAM_END, assertCancellable, dispatchJob, listJobs, watchJob, watchUntilEnd, type JobListFilter } from '../job-views.js';
import { noSuchModel, type RegistryService } from '../registry.service.js';
import type { TrainingService } from '../training/training.service.js';
import type { LlmParaphraser } from './llm-paraphraser.js';
import { RoundPublisher } from './round-publisher.js';

export interface CreateBattleInput {
  readonly model: string;
  /** The defender: this alias's version now (pinned for the battle). */
  readonly alias?: string | null;
  readonly rounds: number;
  /** Pinned strategies, or null/empty for an adaptive attacker (a bandit over all of them). */
  readonly strategies?: readonly string[] | null;
  /** Seed texts given inline (tagged `test`: they never feed a retrain), or… */
  readonly seedTexts?: readonly string[] | null;
  /** …drawn from a dataset version, the examples of one label (the harmful one by default). */
  readonly seedDatasetVersionId?: string | null;
  readonly seedLabel?: string | null;
  /** At most this many seeds from the dataset (default 1,000). */
  readonly seedLimit?: number | null;
  /** The label the attacker wants missed; the model's last label by default (`spam` of ham/spam). */
  readonly harmfulLabel?: string | null;
  /** Retrain when the evasion rate ends above this (default 0.3). */
  readonly threshold?: number | null;
  readonly autoRetrain?: boolean | null;
  readonly seed?: number | null;
  /** Defender queries a query-based round may spend (0: blind strategies only). */
  readonly queryBudget?: number | null;
  /** Share of a text's words the blind strategies perturb, 0 to 1 (default 0.4). */
  readonly intensity?: number | null;
}

export interface BattleView {
  readonly id: string;
  readonly model: string;
  readonly alias: string;
  readonly defenderVersion: number;
  readonly defenderVersionId: string;
  readonly harmfulLabel: string;
  readonly status: JobStatus;
  /** Rounds the battle plays in all. */
  readonly totalRounds: number;
  readonly roundsDone: number;
  readonly evasions: number;
  readonly detections: number;
  readonly evasionRate: number;
  /** On seeds from the test split only: what the retrain never saw. */
  readonly testEvasionRate: number | null;
  readonly threshold: number;
  readonly autoRetrain: boolean;
  readonly strategies: readonly string[] | null;
  readonly seed: number;
  readonly queryBudget: number;
  readonly intensity: number;
  readonly seedCount: number;
  readonly seedDatasetVersionId: string | null;
  readonly byStrategy: { strategy: string; attempts: number; evasions: number; rate: number }[];
  readonly bySplit: { split: string; attempts: number; evasions: number; rate: number }[];
  readonly queries: number;
  readonly latency: { p50: number; p95: number; p99: number } | null;
  readonly retrainRunId: string | null;
  readonly retrainDatasetVersionId: string | null;
  readonly retrainNotice: string | null;
  /** How the battle was played, where a person should know (a strategy skipped, a language model that failed). */
  readonly notices: readonly string[];
  readonly rematchOf: string | null;
  readonly attempts: number;
  readonly workerId: string | null;
  readonly error: string | null;
  readonly principal: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface BattleRoundView {
  readonly battleId: string;
  readonly index: number;
  readonly seedIndex: number;
  readonly split: string;
  readonly original: string;
  readonly variant: string;
  readonly strategy: string;
  readonly score: number;
  readonly detected: boolean;
  readonly queries: number;
  readonly latencyMs: number;
}

/** A round as published: without `original`, which subscribers fill from the battle's seeds. */
type StoredRound = Omit<BattleRoundView, 'original'>;

/** A batch of rounds as published. */
interface StoredRoundsEvent {
  readonly battleId: string;
  readonly rounds: readonly StoredRound[];
}

/**
 * A running battle publishes its rounds and counters at most this often (batches that come
 * faster are merged): subscribers of a battle at full speed then cost the worker a bounded
 * amount, and a slow battle's batches still go out at once.
 */
const LIVE_INTERVAL_MS = 50;

/** What `battleRoundCompleted` pushes: the rounds of one batch (a fast battle's rounds come coalesced). */
export interface BattleRoundsEvent {
  readonly battleId: string;
  readonly rounds: readonly BattleRoundView[];
}

export interface StrategyStatsView {
  readonly strategy: string;
  readonly attempts: number;
  readonly evasions: number;
  readonly rate: number;
}

export const DEFAULT_EVASION_THRESHOLD = 0.3;
const DEFAULT_SEED_LIMIT = 1000;
const MAX_SEED_LIMIT = 100_000;
const topic = (id: string) => `battle.${id}`;
const roundsTopic = (id: string) => `battle.${id}.rounds`;

const noSuchBattle = (id: string) => notFound('battle', id);

function rate(evasions: number, attempts: number): number {
  return attempts === 0 ? 0 : evasions / attempts;
}

function toView(row: Battle): BattleView {
  const config = row.config as unknown as BattleConfig;
  const stats = (row.state as unknown as BattleState | null)?.stats;
  const byStrategy = Object.entries(stats?.byStrategy ?? {}).map(([strategy, s]) => ({ strategy, ...s! }));
  const bySplit = Object.entries(stats?.bySplit ?? {}).map(([split, s]) => ({ split, ...s }));
  const test = stats?.bySplit.test;
  return {
    id: row.id,
    model: row.modelName,
    alias: row.alias,
    defenderVersion: row.defenderVersion,
    defenderVersionId: row.defenderVersionId,
    harmfulLabel: row.harmfulLabel,
    status: row.status,
    totalRounds: config.rounds,
    roundsDone: row.roundsDone,
    evasions: row.evasions,
    detections: row.detections,
    evasionRate: rate(row.evasions, row.roundsDone),
    testEvasionRate: test && test.attempts > 0 ? test.rate : null,
    threshold: row.threshold,
    autoRetrain: row.autoRetrain,
    strategies: config.strategies === 'adaptive' ? null : [...config.strategies],
    seed: config.seed,
    queryBudget: config.queryBudget,
    intensity: config.intensity,
    seedCount: config.seeds.length,
    seedDatasetVersionId: row.seedDatasetVersionId,
    byStrategy,
    bySplit,
    queries: stats?.queries ?? 0,
    latency: (row.latency as BattleView['latency']) ?? null,
    retrainRunId: row.retrainRunId,
    retrainDatasetVersionId: row.retrainDatasetVersionId,
    retrainNotice: row.retrainNotice,
    notices: row.notices ?? [],
    rematchOf: row.rematchOf,
    attempts: row.attempts,
    workerId: row.workerId,
    error: row.error,
    principal: row.principal,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

const toRoundView = (r: BattleRoundRow, seeds: readonly string[]): BattleRoundView => ({
  battleId: r.battleId,
  index: r.idx,
  seedIndex: r.seedIndex,
  split: r.split,
  original: seeds[r.seedIndex] ?? '',
  variant: r.variant,
  strategy: r.strategy,
  score: r.score,
  detected: r.detected,
  queries: r.queries,
  latencyMs: r.latencyMs,
});

/**
 * Battles: createBattle pins the defender version, checks the attack (domain rules) and queues
 * it; a worker plays it with the domain engine in batches, scoring each batch through the
 * inference service, storing the rounds and the engine's state together and publishing both.
 * A finished battle over its threshold retrains the defender once (one retrain per model at a
 * time): the defender's own training data plus the variants of training-split seeds that got
 * through, labelled harmful, as a derived dataset version and a training run that promotes a
 * better challenger by itself.
 */
export class BattleService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly registry: RegistryService,
    private readonly inference: InferenceService,
    private readonly datasets: DatasetService,
    private readonly training: TrainingService,
    private readonly principals: PrincipalDirectory,
    private readonly paraphraser: LlmParaphraser,
  ) {}

  /**
   * Each battle's seed texts by index, for the rounds' `original` (rounds store only the index).
   * A battle's config never changes, so a few are kept; concurrent subscribers share one read.
   */
  private readonly seedTexts = new LRUCache<string, readonly string[]>({
    max: 64,
    maxSize: 256 * 1024 * 1024,
    sizeCalculation: (texts) => Math.max(1, texts.reduce((n, t) => n + 2 * t.length, 0)),
    fetchMethod: async (id) => {
      const row = await this.deps.db.fork().findOne(Battle, { id }, { fields: ['config'] });
      return row ? (row.config as unknown as BattleConfig).seeds.map((s) => s.text) : undefined;
    },
  });

  /**
   * A published batch with each round's seed text, made once per event for all its subscribers:
   * they receive the same event object, and the WebSocket fan-out executes and serializes a
   * query once per event object (src/server/ws-fanout.ts).
   */
  private readonly completed = new WeakMap<StoredRoundsEvent, BattleRoundsEvent>();

  private withOriginals(event: StoredRoundsEvent, seeds: readonly string[]): BattleRoundsEvent {
    let full = this.completed.get(event);
    if (!full) {
      full = { battleId: event.battleId, rounds: event.rounds.map((r) => ({ ...r, original: seeds[r.seedIndex] ?? '' })) };
      this.completed.set(event, full);
    }
    return full;
  }

  private async seedsOf(battleId: string): Promise<readonly string[]> {
    return (await this.seedTexts.fetch(battleId)) ?? [];
  }

  /** The catalogue, with whether each strategy can be played here (llm-paraphrase needs ARENA_LLM_URL). */
  strategies(actor: Principal | null): (StrategyInfo & { available: boolean; unavailableReason: string | null })[] {
    signedIn(actor);
    const reason = this.paraphraser.unavailableReason;
    return STRATEGY_CATALOGUE.map((s) => ({ ...s, available: !s.needsLlm || reason === null, unavailableReason: s.needsLlm ? reason : null }));
  }

  create(em: EntityManager, actor: Principal | null, input: CreateBattleInput): Promise<BattleView> {
    return this.createBattle(em, actor, input, null, null);
  }

  private async createBattle(em: EntityManager, actor: Principal | null, input: CreateBattleInput, rematchOf: string | null, seedList: readonly SeedText[] | null): Promise<BattleView> {
    const owner = mayCreate(actor);
    const alias = input.alias ?? 'champion';
    const model = mayRead(owner, await em.findOne(Model, { name: input.model }), () => noSuchModel(input.model));
    if (model.task !== 'text-classification') throw badInput(`${model.name} is a ${model.task} model; battles attack text classifiers.`, { field: 'model' });
    let defender;
    try {
      defender = await this.registry.resolveVersion(em, { model: model.name, alias }, owner);
    } catch (error) {
      if (error instanceof AppError && error.code === 'NOT_FOUND' && alias === 'champion') {
        throw new AppError('NOT_FOUND', `Model ${model.name} has no champion yet: train one (startTrainingRun) or point the alias at a version (setModelAlias).`, {
          field: 'alias',
        });
      }
      throw error;
    }
    const harmfulLabel = input.harmfulLabel ?? model.labels.at(-1)!;
    if (!model.labels.includes(harmfulLabel)) {
      throw badInput(`${harmfulLabel} is not a label of ${model.name} (${model.labels.join(', ')}).`, { field: 'harmfulLabel' });
    }
    const threshold = input.threshold ?? DEFAULT_EVASION_THRESHOLD;
    if (!(threshold > 0 && threshold < 1)) throw badInput(`threshold must be between 0 and 1 (an evasion rate); got ${threshold}.`, { field: 'threshold' });
    const seeds = seedList ? [...seedList] : await this.seeds(em, owner, input, harmfulLabel);
    const { strategies, notices } = this.playableStrategies(input.strategies);
    const checked = validateBattleConfig({
      rounds: input.rounds,
      strategies,
      paraphrase: this.paraphraser.available,
      seeds,
      seed: input.seed ?? Math.floor(Math.random() * 2 ** 32),
      queryBudget: input.queryBudget ?? 0,
      // The evaded samples are read back from the stored rounds; kept in the state too, a
      // battle of e-mails rewrote megabytes of them with every batch.
      keepEvadedTrain: 0,
      ...(input.intensity === null || input.intensity === undefined ? {} : { intensity: input.intensity }),
    });
    if (!checked.ok) {
      throw badInput(`This battle cannot be played: ${checked.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, {
        field: checked.problems[0]!.field.split(/[.[]/)[0],
        problems: checked.problems,
      });
    }
    const now = this.deps.now();
    const row = em.create(Battle, {
      modelName: model.name,
      alias,
      defenderVersionId: defender.id,
      defenderVersion: defender.version,
      harmfulLabel,
      config: checked.config as unknown as Record<string, unknown>,
      threshold,
      autoRetrain: input.autoRetrain ?? true,
      seedDatasetVersionId: input.seedDatasetVersionId ?? null,
      state: null,
      latency: null,
      rematchOf,
      notices,
      principal: owner.id,
      createdAt: now,
      updatedAt: now,
    });
    await em.flush();
    await dispatchJob(this.deps, 'battle', { battleId: row.id }, row.id);
    return toView(row);
  }

  /** The same attack against the current holder of the alias, with a fresh random seed. */
  async rematch(em: EntityManager, actor: Principal | null, battleId: string): Promise<BattleView> {
    const me = mayCreate(actor);
    const row = isUuid(battleId) ? await em.findOne(Battle, { id: battleId }) : null;
    mayRead(me, row ? privateTo(row.principal) : null, () => noSuchBattle(battleId));
    const config = row!.config as unknown as BattleConfig;
    return this.createBattle(
      em,
      me,
      {
        model: row!.modelName,
        alias: row!.alias,
        rounds: config.rounds,
        strategies: config.strategies === 'adaptive' ? null : config.strategies,
        seedDatasetVersionId: row!.seedDatasetVersionId,
        harmfulLabel: row!.harmfulLabel,
        threshold: row!.threshold,
        autoRetrain: row!.autoRetrain,
        queryBudget: config.queryBudget,
        intensity: config.intensity,
        seed: null,
      },
      row!.id,
      config.seeds,
    );
  }

  /**
   * The strategies asked for, less llm-paraphrase when no language model is configured (skipped
   * with a notice, as is its absence from an adaptive battle); refused if nothing else is left.
   */
  private playableStrategies(asked: readonly string[] | null | undefined): { strategies: readonly string[] | 'adaptive'; notices: string[] } {
    const reason = this.paraphraser.unavailableReason;
    if (!asked || asked.length === 0) return { strategies: 'adaptive', notices: reason ? [`llm-paraphrase is not among the adaptive strategies: ${reason}.`] : [] };
    if (!reason || !asked.includes('llm-paraphrase')) return { strategies: asked, notices: [] };
    const rest = asked.filter((s) => s !== 'llm-paraphrase');
    if (rest.length === 0) throw badInput(`llm-paraphrase cannot be played: ${reason}. Add another strategy or leave strategies out (adaptive).`, { field: 'strategies' });
    return { strategies: rest, notices: [`llm-paraphrase skipped: ${reason}.`] };
  }

  private async seeds(em: EntityManager, actor: Principal, input: CreateBattleInput, harmfulLabel: string): Promise<SeedText[]> {
    const inline = input.seedTexts && input.seedTexts.length > 0;
    if (inline && input.seedDatasetVersionId) throw badInput('Give the seeds inline (seedTexts) or from a dataset version (seedDatasetVersionId), not both.', { field: 'seedTexts' });
    if (inline) return input.seedTexts!.map((text) => ({ text, split: 'test' as const }));
    if (!input.seedDatasetVersionId) throw badInput('A battle needs seed texts: seedTexts, or seedDatasetVersionId (with seedLabel).', { field: 'seedTexts' });
    const missing = () => new AppError('NOT_FOUND', `No dataset version with id ${input.seedDatasetVersionId}.`, { field: 'seedDatasetVersionId' });
    if (!isUuid(input.seedDatasetVersionId)) throw missing();
    const version = await em.findOne(DatasetVersion, { id: input.seedDatasetVersionId }, { populate: ['dataset'] });
    if (!version || !canRead(actor, version.dataset)) throw missing();
    const label = input.seedLabel ?? harmfulLabel;
    const limit = input.seedLimit ?? DEFAULT_SEED_LIMIT;
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_SEED_LIMIT)) throw badInput(`seedLimit must be from 1 to ${MAX_SEED_LIMIT}; got ${limit}.`, { field: 'seedLimit' });
    const rows = await em.getRepository(Dataset).pageExamples(version.lineage, undefined, limit, { label });
    if (rows.length === 0) throw badInput(`Dataset version ${version.id} has no examples labelled ${label} to attack with.`, { field: 'seedLabel' });
    return rows.map((r) => ({ text: r.text, split: r.split === 'train' ? 'train' : 'test' }));
  }

  async get(em: EntityManager, actor: Principal | null, id: string): Promise<BattleView | null> {
    const me = signedIn(actor);
    if (!isUuid(id)) return null;
    const row = await em.findOne(Battle, { id });
    return row && canRead(me, privateTo(row.principal)) ? toView(row) : null;
  }

  /** The caller's battles (everyone's for admins), newest first. */
  list(em: EntityManager, actor: Principal | null, page: PageRequest, filter: JobListFilter = {}) {
    return listJobs(em, Battle, signedIn(actor), page, filter, toView);
  }

  /** Rounds in order, keyset-paginated on the index; the caller checked the battle is readable (get). */
  async rounds(em: EntityManager, battleId: string, first: number, afterIndex: number | undefined, filter: { strategy?: string | null; detected?: boolean | null } = {}) {
    const where = {
      battleId,
      ...(filter.strategy ? { strategy: filter.strategy } : {}),
      ...(filter.detected === null || filter.detected === undefined ? {} : { detected: filter.detected }),
    };
    const [rows, seeds] = await Promise.all([
      em.find(BattleRoundRow, afterIndex === undefined ? where : { ...where, idx: { $gt: afterIndex } }, { orderBy: { idx: 'asc' }, limit: first + 1 }),
      this.seedsOf(battleId),
    ]);
    return { nodes: rows.slice(0, first).map((r) => toRoundView(r, seeds)), hasMore: rows.length > first, totalCount: () => em.fork().count(BattleRoundRow, where) };
  }

  /** Evasion rate by strategy across every battle fought against one model version. */
  async versionStats(em: EntityManager, actor: Principal | null, modelName: string, version: number): Promise<{ battles: number; rounds: number; evasionRate: number; byStrategy: StrategyStatsView[] }> {
    const me = signedIn(actor);
    const meta = await this.registry.resolveVersion(em, { model: modelName, version }, me);
    const ownerFilter = isAdmin(me) ? '' : 'and b.principal = ?';
    const params = isAdmin(me) ? [meta.id] : [meta.id, me.id];
    const rows = await em.getConnection().execute<{ strategy: string; attempts: number; evasions: number; battles: number }[]>(
      `select r.strategy, count(*)::int as attempts, count(*) filter (where not r.detected)::int as evasions, count(distinct b.id)::int as battles
         from battle_round r join battle b on b.id = r.battle_id
        where b.defender_version_id = ? ${ownerFilter}
        group by r.strategy order by r.strategy`,
      params,
    );
    const rounds = rows.reduce((n, r) => n + r.attempts, 0);
    const evasions = rows.reduce((n, r) => n + r.evasions, 0);
    const [battles] = await em.getConnection().execute<{ n: number }[]>(`select count(*)::int as n from battle b where b.defender_version_id = ? ${ownerFilter}`, params);
    return {
      battles: battles?.n ?? 0,
      rounds,
      evasionRate: rate(evasions, rounds),
      byStrategy: rows.map((r) => ({ strategy: r.strategy, attempts: r.attempts, evasions: r.evasions, rate: rate(r.evasions, r.attempts) })),
    };
  }

  async cancel(em: EntityManager, actor: Principal | null, id: string): Promise<BattleView> {
    const me = signedIn(actor);
    const row = isUuid(id) ? await em.findOne(Battle, { id }) : null;
    mayManage(me, row ? privateTo(row.principal) : null, () => noSuchBattle(id), 'this battle');
    assertCancellable(row!.status, 'battle', id);
    const changed = await em.getRepository(Battle).cancel(id, `cancelled by ${me.email}`);
    const fresh = await em.fork().findOneOrFail(Battle, { id });
    if (changed) await this.publishView(fresh);
    return toView(fresh);
  }

  async watch(actor: Principal | null, id: string): Promise<AsyncIterableIterator<BattleView>> {
    const me = signedIn(actor);
    const events = await watchJob(this.deps, topic(id), 'battle', id, () => this.get(this.deps.db.fork(), me, id));
    return authorizedEvents(this.principals, me, events, (view) => canRead(me, privateTo(view.principal)));
  }

  /** Each batch of rounds as it is stored, until the battle ends (the rounds before are in `battle { rounds }`). */
  async watchRounds(actor: Principal | null, id: string): Promise<AsyncIterableIterator<BattleRoundsEvent>> {
    const me = signedIn(actor);
    const stored = await watchUntilEnd<StoredRoundsEvent>(this.deps, roundsTopic(id), 'battle', id, () => this.get(this.deps.db.fork(), me, id));
    const seeds = await this.seedsOf(id);
    const rounds = mapEvents(stored, (e) => this.withOriginals(e, seeds));
    return authorizedEvents(this.principals, me, rounds, () => true);
  }

  async publishCurrent(em: EntityManager, id: string): Promise<void> {
    const row = isUuid(id) ? await em.findOne(Battle, { id }) : null;
    if (row) await this.publishView(row);
  }

  private async publishView(row: Battle): Promise<void> {
    await this.deps.events.publish(topic(row.id), toView(row));
    if (isTerminal(row.status)) await this.deps.events.publish(roundsTopic(row.id), STREAM_END);
  }

  /** The worker side. */
  execute(battleId: string, ctx: JobContext): Promise<void> {
    return runJob<Battle>({
      em: this.deps.db.fork(),
      repository: (em) => em.getRepository(Battle) as JobRowRepository<Battle>,
      id: battleId,
      workerId: this.deps.workerId,
      ctx,
      maxAttempts: this.deps.config.jobMaxAttempts,
      heartbeatMs: Math.max(1000, Math.floor(this.deps.config.jobStaleAfterMs / 4)),
      publish: (row) => this.publishView(row),
      work: (row, signal) => this.play(row, signal),
    });
  }

  private async play(row: Battle, signal: AbortSignal): Promise<Partial<Battle>> {
    let engine: BattleEngine;
    try {
      engine = new BattleEngine(row.config as unknown as BattleConfig);
    } catch (error) {
      throw new PermanentJobError(`the battle's configuration is not playable: ${(error as Error).message}`);
    }
    const meta = await this.registry.resolveVersionById(this.deps.db.fork(), row.defenderVersionId).catch((error: unknown) => {
      if (error instanceof AppError) throw new PermanentJobError(`the defender is gone: ${error.message}`);
      throw error;
    });
    const harmful = meta.labels.indexOf(row.harmfulLabel);
    if (harmful === -1) throw new PermanentJobError(`the defender has no label ${row.harmfulLabel}`);
    // Resume after the last stored batch: its rounds and state were written together.
    let state = (row.state as unknown as BattleState | null) ?? engine.initialState();
    const em = this.deps.db.fork();
    if (state.nextRound > 0) await em.nativeDelete(BattleRoundRow, { battleId: row.id, idx: { $gte: state.nextRound } });
    let batchMs = 0;
    // A paraphrase that fails plays the fallback strategy; the reasons end up in the battle's notices.
    const tally = this.paraphraser.tally();
    const defend = async (texts: readonly string[]) => {
      const started = performance.now();
      const { rows } = await this.inference.scoreTexts(meta.id, texts);
      batchMs += performance.now() - started;
      return rows.map((p) => ({ harmfulScore: p[harmful]!, detected: argmax(p) === harmful }));
    };
    const live = new RoundPublisher<StoredRound, BattleView>(
      async (rounds, view) => {
        if (rounds.length > 0) await this.deps.events.publish(roundsTopic(row.id), { battleId: row.id, rounds } satisfies StoredRoundsEvent);
        await this.deps.events.publish(topic(row.id), view);
      },
      LIVE_INTERVAL_MS,
      (error) => this.deps.log.warn({ err: error, battle: row.id }, 'could not publish a battle’s rounds'),
    );
    try {
      while (!engine.isDone(state)) {
        signal.throwIfAborted();
        batchMs = 0;
        let batch: BattleBatch;
        try {
          batch = await engine.runBatch(state, defend, tally.paraphrase);
        } catch (error) {
          if (error instanceof AppError) throw new PermanentJobError(error.message);
          throw error;
        }
        const latency = batch.rounds.length > 0 ? batchMs / batch.rounds.length : 0;
        const stored = await this.store(row, batch, latency);
        if (!stored) throw new Error('battle is no longer held by this worker');
        state = batch.state;
        // Without the seed texts (subscribers add them from the config): an e-mail battle's events are half the size.
        const rounds = batch.rounds.map((r): StoredRound => ({ battleId: row.id, index: r.index, seedIndex: r.seedIndex, split: r.split, variant: r.variant, strategy: r.strategy, score: r.score, detected: r.detected, queries: r.queries, latencyMs: latency }));
        await live.add(rounds, toView(row));
      }
    } finally {
      // Every stored round reaches the live stream before the battle's final state does (a
      // failure to publish here must not hide why the battle stopped).
      await live.flush().catch((error: unknown) => this.deps.log.warn({ err: error, battle: row.id }, 'could not publish a battle’s last rounds'));
    }
    const latencyStats = await this.latency(row.id);
    const stats = state.stats;
    const result: Partial<Battle> = { state: structuredClone(state) as unknown as Record<string, unknown>, roundsDone: stats.rounds, evasions: stats.evasions, detections: stats.detections, latency: latencyStats };
    const failed = tally.summary();
    if (failed) {
      const fallbacks = stats.paraphraseFallbacks ?? 0;
      result.notices = [...(row.notices ?? []), `llm-paraphrase failed in ${fallbacks} round${fallbacks === 1 ? '' : 's'}, which played ${PARAPHRASE_FALLBACK} instead (${failed}).`];
    }
    if (row.autoRetrain && stats.evasionRate > row.threshold) {
      // The retrain's notices come after the battle's own.
      const { notices: more, ...retrain } = await this.retrain(row, stats);
      Object.assign(result, retrain);
      if (more?.length) result.notices = [...(result.notices ?? row.notices ?? []), ...more];
    }
    return result;
  }

  /** A batch's rounds and the engine's state after it, in one transaction, while this worker holds the battle. */
  private async store(row: Battle, batch: BattleBatch, latencyMs: number): Promise<boolean> {
    const stats = batch.state.stats;
    const moved = await this.deps.db.fork().transactional(async (tx) => {
      const n = await tx.nativeUpdate(
        Battle,
        { id: row.id, workerId: this.deps.workerId, status: 'RUNNING' },
        // A copy: the engine's state is frozen, and the ORM writes into the parameters it is given.
        { state: structuredClone(batch.state) as unknown as Record<string, unknown>, roundsDone: stats.rounds, evasions: stats.evasions, detections: stats.detections, updatedAt: this.deps.now() },
      );
      if (n === 0) return 0;
      await tx.getRepository(BattleRoundRow).insertBatch(row.id, latencyMs, batch.rounds);
      return n;
    });
    if (moved > 0) Object.assign(row, { state: structuredClone(batch.state), roundsDone: stats.rounds, evasions: stats.evasions, detections: stats.detections });
    return moved > 0;
  }

  private async latency(battleId: string): Promise<Record<string, number> | null> {
    const [row] = await this.deps.db
      .fork()
      .getConnection()
      .execute<{ p50: number | null; p95: number | null; p99: number | null }[]>(
        `select percentile_cont(0.5) within group (order by latency_ms) as p50,
                percentile_cont(0.95) within group (order by latency_ms) as p95,
                percentile_cont(0.99) within group (order by latency_ms) as p99
           from battle_round where battle_id = ?`,
        [battleId],
      );
    return row && row.p50 !== null ? { p50: Number(row.p50), p95: Number(row.p95), p99: Number(row.p99) } : null;
  }

  /**
   * The loop: the defender's training data plus the evaded variants of training-split seeds, as a
   * derived dataset version, and a training run on it, with the battle's starter's rights. One
   * retrain per model at a time (a transaction-scoped advisory lock, then a look for a running one).
   */
  private async retrain(row: Battle, stats: BattleStats): Promise<Partial<Battle>> {
    const skip = (retrainNotice: string): Partial<Battle> => {
      this.deps.log.info({ battle: row.id, model: row.modelName }, `no retrain: ${retrainNotice}`);
      return { retrainNotice };
    };
    const owner = row.principal ? await this.principals.forUser(row.principal) : null;
    if (!owner) return skip('the battle’s starter can no longer act (gone or disabled)');
    const em = this.deps.db.fork();
    const defender = await em.findOne(ModelVersion, { id: row.defenderVersionId });
    if (!defender?.datasetVersionId) return skip(`the defender (version ${row.defenderVersion}) was not trained on a dataset version: there is no data to add the evaded samples to`);
    const base = await em.findOne(DatasetVersion, { id: defender.datasetVersionId }, { populate: ['dataset'] });
    if (!base) return skip('the dataset version the defender was trained on no longer exists');
    const found = await em.find(BattleRoundRow, { battleId: row.id, split: 'train', detected: false }, { orderBy: { idx: 'asc' } });
    if (found.length === 0) return skip(`every evasion (${stats.evasions}) was of a test-split seed: nothing may join the training data`);
    // A variant may outgrow its seed (inserted characters): one over the dataset's limit would refuse the whole version.
    const limit = this.deps.config.dataset.maxTextLength;
    const evaded = found.filter((r) => r.variant.length <= limit);
    const tooLong = found.length - evaded.length;
    const notices = tooLong > 0 ? [`${tooLong} evaded variant${tooLong === 1 ? ' was' : 's were'} longer than a dataset example may be (${limit.toLocaleString('en')} characters) and left out of the retrain.`] : undefined;
    if (evaded.length === 0) return { ...skip('every evaded variant of a training-split seed was longer than a dataset example may be'), ...(notices ? { notices } : {}) };
    const run = defender.trainingRunId ? await em.findOne(TrainingRun, { id: defender.trainingRunId }) : null;
    let outcome: Partial<Battle> & { dispatch?: string };
    try {
      outcome = await em.transactional(async (tx) => {
        await tx.getConnection().execute('select pg_advisory_xact_lock(hashtext(?))', [`arena.retrain.${row.modelName}`], 'all', tx.getTransactionContext());
        const busy = await tx.findOne(TrainingRun, { modelName: row.modelName, status: { $in: ['QUEUED', 'RUNNING'] } }, { orderBy: { createdAt: 'desc' } });
        if (busy) return { retrainRunId: busy.id, retrainNotice: `a training run of ${row.modelName} was already under way; linked to it` };
        const derived = await this.datasets.deriveVersion(tx, owner, {
          dataset: base.dataset.id,
          parentVersion: base.version,
          examples: dedupe(evaded.map((r) => r.variant)).map((text) => ({ text, label: row.harmfulLabel, source: `battle/${row.id}`, split: 'train' as const })),
          note: `${evaded.length} evaded variants of training-split seeds from battle ${row.id}`,
        });
        // Written with the lock held, dispatched once committed (a worker must find the row).
        const started = await this.training.start(
          tx,
          owner,
          {
            model: row.modelName,
            datasetVersionId: derived.version.id,
            hyperparameters: run?.runner === 'builtin' ? run.hyperparameters : null,
            featurizerSpec: run?.featurizerSpec ?? (defender.featurizerSpec as Record<string, unknown>),
            runner: run?.runner ?? 'builtin',
          },
          { dispatch: false },
        );
        return { retrainRunId: started.id, retrainDatasetVersionId: derived.version.id, retrainNotice: null, dispatch: started.id, ...(notices ? { notices } : {}) };
      });
    } catch (error) {
      // Refusals (the starter may not add to that dataset or train that model) are notices, not failures of the battle.
      if (error instanceof AppError) return skip(`the retrain was refused: ${error.message}`);
      throw error;
    }
    const { dispatch, ...columns } = outcome;
    if (dispatch) await this.training.dispatch(dispatch);
    return columns;
  }
}

/** `events` with each value mapped; return() and throw() reach the source. */
function mapEvents<A, B>(events: AsyncIterableIterator<A>, map: (value: A) => B): AsyncIterableIterator<B> {
  const iterator: AsyncIterableIterator<B> = {
    async next() {
      const step = await events.next();
      return step.done ? step : { done: false, value: map(step.value) };
    },
    async return() {
      await events.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      await events.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

function dedupe(texts: readonly string[]): string[] {
  return [...new Set(texts)];
}

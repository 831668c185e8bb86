import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { LockMode, UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import pLimit from 'p-limit';
import type { Readable } from 'node:stream';
import {
  CHAMPION,
  FeaturizerSpecError,
  TEXT_CLASSIFICATION,
  aliasesBlockingRemoval,
  checkAliasName,
  checkLabels,
  checkModelName,
  checkTask,
  checkTensorModelSignature,
  checkTextClassifierSignature,
  parseFeaturizerSpec,
  canRead,
  type FeaturizerSpec,
  type PromotionPolicy,
  type RuleViolation,
  type Visibility,
} from '../domain/index.js';
import { Model, ModelAlias, ModelVersion, type VersionSource } from '../entities/index.js';
import { AppError, badInput } from '../errors.js';
import { inspectOnnxFile, OnnxInspectionError, type OnnxInspection } from '../inference/onnx-inspector.js';
import type { ArtifactStore, StoredArtifact } from '../storage/artifact-store.js';
import type { Principal, PrincipalDirectory } from './auth/principals.js';
import { authorizedEvents, mayCreate, mayManage, mayRead, readableFilter, signedIn } from './authz.js';
import type { ServiceDeps } from './context.js';
import { spoolUpload } from './uploads.js';

export interface ModelVersionView {
  readonly id: string;
  readonly version: number;
  readonly format: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly featurizerSpec: Record<string, unknown>;
  readonly signature: Record<string, unknown>;
  readonly metrics: Record<string, number>;
  readonly source: VersionSource;
  readonly trainingRunId: string | null;
  readonly datasetVersionId: string | null;
  readonly createdBy: string | null;
  readonly createdAt: string;
  /** The aliases pointing at this version. */
  readonly aliases: string[];
}

export interface ModelView {
  readonly id: string;
  readonly name: string;
  readonly task: string;
  readonly labels: string[];
  readonly description: string;
  readonly owner: string | null;
  readonly visibility: Visibility;
  readonly promotionPolicy: PromotionPolicy;
  readonly promotionMargin: number;
  readonly createdAt: string;
  /** Newest first. */
  readonly versions: ModelVersionView[];
  readonly aliases: { name: string; version: number; updatedAt: string }[];
}

export interface CreateModelInput {
  readonly name: string;
  readonly labels: string[];
  readonly description?: string | null;
  readonly task?: string | null;
  /** PRIVATE (the default): the owner and admins; SHARED: every signed-in user may read and use it. */
  readonly visibility?: Visibility | null;
}

export interface UpdateModelInput {
  readonly name: string;
  readonly description?: string | null;
  readonly visibility?: Visibility | null;
  readonly promotionPolicy?: PromotionPolicy | null;
  /** 0 to 1: how much higher a challenger's test F1 must be. */
  readonly promotionMargin?: number | null;
}

export interface NewVersion {
  readonly bytes: Uint8Array;
  readonly featurizerSpec: Record<string, unknown>;
  readonly signature: Record<string, unknown>;
  readonly metrics?: Record<string, number>;
  readonly source: VersionSource;
  readonly trainingRunId?: string | null;
  readonly datasetVersionId?: string | null;
  readonly createdBy?: string | null;
}

export interface UploadedVersion {
  readonly model: string;
  readonly file: Readable;
  /** Required for text-classification models unless the file carries one (metadata `featurizer_spec`). */
  readonly featurizerSpec?: Record<string, unknown> | null;
  readonly metrics?: Record<string, number> | null;
  /** An alias to point at the new version once it is registered (checked before the upload is read). */
  readonly alias?: string | null;
}

function checkMetrics(metrics: Record<string, unknown> | null | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(metrics ?? {})) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw badInput(`metric "${key}" must be a finite number; got ${JSON.stringify(value)}.`, { field: 'metrics' });
    }
    out[key] = value;
  }
  return out;
}

/**
 * Whether an inspected upload can serve as a version of this model: text models need a signature
 * the featurizer feeds and a valid featurizer spec; other tasks need numeric tensors in and out.
 */
function checkUploadFits(
  model: Model,
  inspection: OnnxInspection,
  givenSpec: Record<string, unknown> | null,
): { featurizerSpec: Record<string, unknown>; signature: Record<string, unknown> } {
  const signature = { inputs: inspection.signature.inputs, outputs: inspection.signature.outputs } as unknown as Record<string, unknown>;
  if (model.task !== TEXT_CLASSIFICATION) {
    reject(checkTensorModelSignature(inspection.signature));
    if (givenSpec) throw badInput(`${model.name} is a ${model.task} model fed raw tensors; it takes no featurizer spec.`, { field: 'featurizerSpec' });
    return { featurizerSpec: {}, signature };
  }
  reject(checkTextClassifierSignature(inspection.signature, model.labels.length));
  let json: unknown = givenSpec;
  if (!json && inspection.metadata['featurizer_spec']) {
    try {
      json = JSON.parse(inspection.metadata['featurizer_spec']);
    } catch {
      throw badInput('The file’s featurizer_spec metadata is not JSON; pass featurizerSpec explicitly.', { field: 'featurizerSpec' });
    }
  }
  if (!json) {
    throw badInput('A text-classification model needs the featurizer spec it was trained with: pass featurizerSpec.', { field: 'featurizerSpec' });
  }
  let spec: FeaturizerSpec;
  try {
    spec = parseFeaturizerSpec(json);
  } catch (error) {
    if (error instanceof FeaturizerSpecError) throw badInput(error.message, { field: 'featurizerSpec', problems: error.problems });
    throw error;
  }
  const buckets = Number(inspection.metadata['buckets']);
  if (Number.isInteger(buckets) && buckets !== spec.buckets) {
    throw badInput(`The featurizer spec hashes into ${spec.buckets} buckets but the model’s embedding table has ${buckets} rows.`, {
      field: 'featurizerSpec',
    });
  }
  return { featurizerSpec: spec as unknown as Record<string, unknown>, signature };
}

export const noSuchModel = (name: string) => new AppError('NOT_FOUND', `No model named ${name}.`, { field: 'model' });

/** Published on `model.<name>` whenever an alias moves, so every process can reload its champion. */
export interface AliasChangedEvent {
  readonly model: string;
  readonly alias: string;
  /** null when the alias was removed. */
  readonly version: number | null;
}

/** Which version to use: an explicit number wins over an alias; neither means `champion`. */
export interface VersionRef {
  readonly model: string;
  readonly alias?: string | null;
  readonly version?: number | null;
}

/** What serving a version needs, without the ORM. */
export interface ResolvedVersion {
  readonly id: string;
  readonly modelName: string;
  readonly task: string;
  readonly labels: readonly string[];
  readonly version: number;
  readonly artifactKey: string;
  readonly featurizerSpec: Record<string, unknown> | null;
  /** The alias the ref named (undefined for an explicit version). */
  readonly alias: string | undefined;
  /** Who may use it (see domain/auth). */
  readonly owner: string | null;
  readonly visibility: Visibility;
}

function resolved(model: Model, row: ModelVersion, alias: string | undefined): ResolvedVersion {
  return {
    id: row.id,
    modelName: model.name,
    task: model.task,
    labels: model.labels,
    version: row.version,
    artifactKey: row.artifactKey,
    featurizerSpec: model.task === TEXT_CLASSIFICATION ? row.featurizerSpec : null,
    alias,
    owner: model.owner,
    visibility: model.visibility,
  };
}

function reject(violation: RuleViolation | undefined): void {
  if (violation) throw badInput(violation.message, { field: violation.field });
}

function toViews(model: Model): ModelView {
  const aliases = model.aliases.getItems().map((a) => ({ name: a.name, version: a.version.version, updatedAt: a.updatedAt.toISOString() }));
  const versions = model.versions
    .getItems()
    .sort((a, b) => b.version - a.version)
    .map((v) => ({
      id: v.id,
      version: v.version,
      format: v.format,
      sha256: v.sha256,
      sizeBytes: v.sizeBytes,
      featurizerSpec: v.featurizerSpec,
      signature: v.signature,
      metrics: v.metrics,
      source: v.source,
      trainingRunId: v.trainingRunId,
      datasetVersionId: v.datasetVersionId,
      createdBy: v.createdBy,
      createdAt: v.createdAt.toISOString(),
      aliases: aliasesBlockingRemoval(v.version, aliases),
    }));
  return {
    id: model.id,
    name: model.name,
    task: model.task,
    labels: model.labels,
    description: model.description,
    owner: model.owner,
    visibility: model.visibility,
    promotionPolicy: model.promotionPolicy,
    promotionMargin: model.promotionMargin,
    createdAt: model.createdAt.toISOString(),
    versions,
    aliases: aliases.sort((a, b) => a.name.localeCompare(b.name)),
  };
}

const POPULATE = ['versions', 'aliases', 'aliases.version'] as const;

/**
 * Uploads inspected at once per process: each inspection is a child process that may use up to
 * ARENA_MODEL_INSPECT_MEMORY_BYTES, and the server reads each file once to scan it.
 */
const CONCURRENT_INSPECTIONS = 2;

/** The model registry: versions are immutable, aliases move. */
export class RegistryService {
  private readonly inspections = pLimit(CONCURRENT_INSPECTIONS);

  constructor(
    private readonly deps: ServiceDeps,
    private readonly artifacts: ArtifactStore,
    private readonly principals: PrincipalDirectory,
  ) {}

  async createModel(em: EntityManager, actor: Principal | null, input: CreateModelInput): Promise<ModelView> {
    const owner = mayCreate(actor);
    reject(checkModelName(input.name));
    const task = input.task?.trim() || TEXT_CLASSIFICATION;
    reject(checkTask(task));
    // Labels name a classifier's outputs; a model fed raw tensors (a forecaster) may have none.
    if (task === TEXT_CLASSIFICATION || input.labels.length > 0) reject(checkLabels(input.labels));
    em.create(Model, {
      name: input.name,
      labels: [...input.labels],
      description: input.description?.trim() ?? '',
      task,
      owner: owner.id,
      visibility: input.visibility ?? 'PRIVATE',
    });
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw new AppError('CONFLICT', `A model named ${input.name} already exists.`, { field: 'name' });
      }
      throw error;
    }
    return this.getModelOrFail(em, input.name);
  }

  /** Description and visibility; the owner's or an admin's to change. */
  async updateModel(em: EntityManager, actor: Principal | null, input: UpdateModelInput): Promise<ModelView> {
    const model = mayManage(actor, await em.findOne(Model, { name: input.name }), () => noSuchModel(input.name), `model ${input.name}`);
    if (input.description != null) model.description = input.description.trim();
    if (input.visibility != null) model.visibility = input.visibility;
    if (input.promotionPolicy != null) model.promotionPolicy = input.promotionPolicy;
    if (input.promotionMargin != null) {
      if (!(input.promotionMargin >= 0 && input.promotionMargin <= 1)) {
        throw badInput(`promotionMargin must be from 0 to 1 (an F1 difference); got ${input.promotionMargin}.`, { field: 'promotionMargin' });
      }
      model.promotionMargin = input.promotionMargin;
    }
    await em.flush();
    return this.getModelOrFail(em.fork(), model.name);
  }

  /** Null when there is no such model or the caller may not see it. */
  async getModel(em: EntityManager, actor: Principal | null, name: string): Promise<ModelView | null> {
    const me = signedIn(actor);
    const model = await em.findOne(Model, { name }, { populate: POPULATE });
    return model && canRead(me, model) ? toViews(model) : null;
  }

  private async getModelOrFail(em: EntityManager, name: string): Promise<ModelView> {
    const model = await em.findOne(Model, { name }, { populate: POPULATE });
    const view = model ? toViews(model) : null;
    if (!view) throw noSuchModel(name);
    return view;
  }

  /** Models by name; versions and aliases come in three queries per page, not one per model. */
  async listModels(em: EntityManager, actor: Principal | null, first: number, afterName: string | undefined) {
    const visible = readableFilter(signedIn(actor)) ?? {};
    const repo = em.getRepository(Model);
    const { rows, hasMore } = await repo.listPage(first, afterName, visible);
    await em.populate(rows, POPULATE);
    return { nodes: rows.map(toViews), hasMore, totalCount: () => repo.count(visible) };
  }

  /** Registers a version from bytes the platform made itself (a training run's export). */
  async registerVersion(em: EntityManager, modelName: string, input: NewVersion): Promise<ModelVersionView> {
    return this.recordVersion(em, modelName, await this.artifacts.put(input.bytes, 'onnx'), input);
  }

  /**
   * Registers an uploaded ONNX file after validating it: size limit while it streams to a temp
   * file, then parse, load and a trial run in a child process with time and memory limits, then a
   * signature the model's task can use. A rejected file leaves no row and no file.
   */
  async registerUpload(em: EntityManager, actor: Principal | null, input: UploadedVersion): Promise<{ model: ModelView; version: ModelVersionView }> {
    const limits = this.deps.config.inference;
    let model: Model;
    let metrics: Record<string, number>;
    try {
      model = mayManage(actor, await em.findOne(Model, { name: input.model }), () => noSuchModel(input.model), `model ${input.model}`);
      if (input.alias) reject(checkAliasName(input.alias));
      metrics = checkMetrics(input.metrics);
    } catch (error) {
      input.file.resume(); // drain it, so the request can finish
      throw error;
    }
    const spooled = await spoolUpload(this.deps.config, input.file);
    try {
      let inspection;
      try {
        inspection = await this.inspections(() =>
          inspectOnnxFile(spooled.path, { timeoutMs: limits.inspectTimeoutMs, memoryBytes: limits.inspectMemoryBytes }),
        );
      } catch (error) {
        if (error instanceof OnnxInspectionError) {
          throw badInput(`The file was rejected (${error.problem}): ${error.message}`, { field: 'file', problem: error.problem });
        }
        throw error;
      }
      const { featurizerSpec, signature } = checkUploadFits(model, inspection, input.featurizerSpec ?? null);
      const stored = await this.artifacts.putFile(spooled.path, spooled.sha256, spooled.sizeBytes, 'onnx');
      const version = await this.recordVersion(em, model.name, stored, {
        featurizerSpec,
        signature,
        metrics,
        source: 'UPLOAD',
        createdBy: actor!.id,
      });
      if (!input.alias) return { model: await this.getModelOrFail(em.fork(), model.name), version };
      const view = await this.setAlias(em, actor, model.name, input.alias, version.version);
      return { model: view, version: view.versions.find((v) => v.version === version.version)! };
    } finally {
      await spooled.remove();
    }
  }

  /**
   * Registers an ONNX file a training runner wrote, checked exactly like an upload (parse, load
   * and trial run in a child process, a signature the model's task can use). The file is moved
   * into the artifact store. A refusal is an AppError (BAD_USER_INPUT) naming the problem.
   */
  async registerArtifactFile(
    em: EntityManager,
    modelName: string,
    file: string,
    lineage: Pick<NewVersion, 'metrics' | 'trainingRunId' | 'datasetVersionId' | 'createdBy'>,
    /** What inspectFile said of this very file, when the caller asked already (saves a second child process). */
    inspected?: { featurizerSpec: Record<string, unknown>; signature: Record<string, unknown> },
  ): Promise<ModelVersionView> {
    const model = await em.findOne(Model, { name: modelName });
    if (!model) throw noSuchModel(modelName);
    const { featurizerSpec, signature } = inspected ?? (await this.inspectFile(em, modelName, file));
    const { sha256, sizeBytes } = await digestFile(file);
    const stored = await this.artifacts.putFile(file, sha256, sizeBytes, 'onnx');
    return this.recordVersion(em, model.name, stored, { ...lineage, featurizerSpec, signature, source: 'TRAINING' });
  }

  /** What registerArtifactFile checks, without storing anything: for evaluating a file before it is registered. */
  async inspectFile(em: EntityManager, modelName: string, file: string): Promise<{ model: Model; featurizerSpec: Record<string, unknown>; signature: Record<string, unknown> }> {
    const limits = this.deps.config.inference;
    const model = await em.findOne(Model, { name: modelName });
    if (!model) throw noSuchModel(modelName);
    let inspection;
    try {
      inspection = await this.inspections(() => inspectOnnxFile(file, { timeoutMs: limits.inspectTimeoutMs, memoryBytes: limits.inspectMemoryBytes }));
    } catch (error) {
      if (error instanceof OnnxInspectionError) throw badInput(`The artifact was rejected (${error.problem}): ${error.message}`, { field: 'artifact', problem: error.problem });
      throw error;
    }
    return { model, ...checkUploadFits(model, inspection, null) };
  }

  /**
   * Numbers and records a version of a stored artifact under a lock on the model row, so
   * concurrent registrations get distinct numbers. On failure a newly stored artifact no version
   * uses is deleted again.
   */
  private async recordVersion(
    em: EntityManager,
    modelName: string,
    stored: StoredArtifact,
    input: Omit<NewVersion, 'bytes'>,
  ): Promise<ModelVersionView> {
    try {
      const version = await em.transactional(async (tx) => {
        const model = await tx.findOne(Model, { name: modelName }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!model) throw noSuchModel(modelName);
        const latest = await tx.findOne(ModelVersion, { model }, { orderBy: { version: 'desc' }, fields: ['version'] });
        const row = tx.create(ModelVersion, {
          model,
          version: (latest?.version ?? 0) + 1,
          artifactKey: stored.key,
          sha256: stored.sha256,
          sizeBytes: stored.sizeBytes,
          featurizerSpec: input.featurizerSpec,
          signature: input.signature,
          metrics: input.metrics ?? {},
          source: input.source,
          trainingRunId: input.trainingRunId ?? null,
          datasetVersionId: input.datasetVersionId ?? null,
          createdBy: input.createdBy ?? null,
        });
        return row.version;
      });
      const view = await this.getModelOrFail(em.fork(), modelName);
      return view.versions.find((v) => v.version === version)!;
    } catch (error) {
      if (stored.created && !(await em.fork().count(ModelVersion, { sha256: stored.sha256 }))) await this.artifacts.delete(stored.key);
      throw error;
    }
  }

  async setAlias(em: EntityManager, actor: Principal | null, modelName: string, alias: string, versionNumber: number): Promise<ModelView> {
    mayManage(actor, await em.findOne(Model, { name: modelName }), () => noSuchModel(modelName), `model ${modelName}`);
    return this.moveAlias(em, modelName, alias, versionNumber);
  }

  /**
   * Points an alias at a version and tells every process (they reload, then swap). Access is the
   * caller's business: setAlias checks it; a training run moves `challenger` and `champion` of the
   * model it was started on, with the rights its starter had then.
   */
  async moveAlias(em: EntityManager, modelName: string, alias: string, versionNumber: number): Promise<ModelView> {
    const model = await em.findOne(Model, { name: modelName });
    if (!model) throw noSuchModel(modelName);
    reject(checkAliasName(alias));
    const version = await em.findOne(ModelVersion, { model, version: versionNumber });
    if (!version) throw new AppError('NOT_FOUND', `Model ${modelName} has no version ${versionNumber}.`, { field: 'version' });
    // An existing alias keeps its id and moves; a new one is inserted.
    await em.upsert(
      ModelAlias,
      { id: randomUUID(), model, name: alias, version, updatedAt: this.deps.now() },
      { onConflictFields: ['model', 'name'], onConflictMergeFields: ['version', 'updatedAt'] },
    );
    await this.publish({ model: modelName, alias, version: versionNumber });
    return this.getModelOrFail(em.fork(), modelName);
  }

  async removeAlias(em: EntityManager, actor: Principal | null, modelName: string, alias: string): Promise<ModelView> {
    const model = mayManage(actor, await em.findOne(Model, { name: modelName }), () => noSuchModel(modelName), `model ${modelName}`);
    const removed = await em.nativeDelete(ModelAlias, { model, name: alias });
    if (removed === 0) throw new AppError('NOT_FOUND', `Model ${modelName} has no alias ${alias}.`, { field: 'alias' });
    await this.publish({ model: modelName, alias, version: null });
    return this.getModelOrFail(em.fork(), modelName);
  }

  /** Refused while an alias points at the version; the artifact goes when no version uses it. */
  async deleteVersion(em: EntityManager, actor: Principal | null, modelName: string, versionNumber: number): Promise<ModelView> {
    mayManage(actor, await em.findOne(Model, { name: modelName }), () => noSuchModel(modelName), `model ${modelName}`);
    const view = await this.getModelOrFail(em, modelName);
    const version = view.versions.find((v) => v.version === versionNumber);
    if (!version) throw new AppError('NOT_FOUND', `Model ${modelName} has no version ${versionNumber}.`, { field: 'version' });
    const blocking = aliasesBlockingRemoval(versionNumber, view.aliases);
    if (blocking.length > 0) {
      throw new AppError(
        'CONFLICT',
        `Version ${versionNumber} of ${modelName} is what ${blocking.map((a) => `"${a}"`).join(' and ')} point${blocking.length === 1 ? 's' : ''} at; move or remove ${blocking.length === 1 ? 'that alias' : 'those aliases'} first.`,
        { aliases: blocking },
      );
    }
    const row = await em.findOneOrFail(ModelVersion, { id: version.id });
    const { artifactKey, sha256 } = row;
    await em.remove(row).flush();
    if ((await em.count(ModelVersion, { sha256 })) === 0) await this.artifacts.delete(artifactKey);
    return this.getModelOrFail(em.fork(), modelName);
  }

  /**
   * The version a ref points at now. NOT_FOUND names what is missing: the model, the alias or the
   * version. With `actor`, one who may not read the model gets the very answer a missing model gets.
   */
  async resolveVersion(em: EntityManager, ref: VersionRef, actor?: Principal | null): Promise<ResolvedVersion> {
    const model = await em.findOne(Model, { name: ref.model });
    // Before any lookup of versions or aliases: "no version 9" would tell a stranger the model exists.
    if (actor !== undefined) mayRead(actor, model, () => noSuchModel(ref.model));
    if (!model) throw noSuchModel(ref.model);
    let row: ModelVersion | null;
    let alias: string | undefined;
    if (ref.version !== undefined && ref.version !== null) {
      row = await em.findOne(ModelVersion, { model, version: ref.version });
      if (!row) throw new AppError('NOT_FOUND', `Model ${ref.model} has no version ${ref.version}.`, { field: 'version' });
    } else {
      alias = ref.alias ?? CHAMPION;
      const pointer = await em.findOne(ModelAlias, { model, name: alias }, { populate: ['version'] });
      if (!pointer) {
        throw new AppError(
          'NOT_FOUND',
          `Model ${ref.model} has no alias "${alias}". Point it at a version with setModelAlias, or name a version.`,
          { field: 'alias' },
        );
      }
      row = pointer.version;
    }
    return resolved(model, row, alias);
  }

  /** A version by id, for work pinned to one (bulk jobs). */
  async resolveVersionById(em: EntityManager, id: string): Promise<ResolvedVersion> {
    const row = await em.findOne(ModelVersion, { id }, { populate: ['model'] });
    if (!row) throw new AppError('NOT_FOUND', `Model version ${id} no longer exists.`, { field: 'modelVersionId' });
    return resolved(row.model, row, undefined);
  }

  /** Alias moves of one model as they happen; NOT_FOUND for an unknown model. */
  async watchAliases(actor: Principal | null, modelName: string): Promise<AsyncIterableIterator<AliasChangedEvent>> {
    const me = signedIn(actor);
    const events = await this.deps.events.subscribe<AliasChangedEvent>(`model.${modelName}`);
    const current = () => this.deps.db.fork().findOne(Model, { name: modelName }, { fields: ['owner', 'visibility'] });
    try {
      mayRead(me, await current(), () => noSuchModel(modelName));
    } catch (error) {
      await events.return?.();
      throw error;
    }
    // Visibility can change while someone listens: each event re-reads it (alias moves are rare).
    let visible = true;
    const checked: AsyncIterableIterator<AliasChangedEvent> = {
      next: async () => {
        const step = await events.next();
        if (!step.done) {
          const model = await current();
          visible = model !== null && canRead(me, model);
        }
        return step;
      },
      return: () => events.return?.() ?? Promise.resolve({ done: true, value: undefined }),
      [Symbol.asyncIterator]: () => checked,
    };
    return authorizedEvents(this.principals, me, checked, () => visible);
  }

  readArtifact(key: string): Promise<Buffer> {
    return this.artifacts.get(key);
  }

  private async publish(event: AliasChangedEvent): Promise<void> {
    await this.deps.events.publish(`model.${event.model}`, event);
  }
}

async function digestFile(file: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

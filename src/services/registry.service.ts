import { randomUUID } from 'node:crypto';
import { LockMode, UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { aliasesBlockingRemoval, checkAliasName, checkLabels, checkModelName, type RuleViolation } from '../domain/index.js';
import { Model, ModelAlias, ModelVersion, type VersionSource } from '../entities/index.js';
import { AppError, badInput } from '../errors.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import type { ServiceDeps } from './context.js';

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

/** Published on `model.<name>` whenever an alias moves, so every process can reload its champion. */
export interface AliasChangedEvent {
  readonly model: string;
  readonly alias: string;
  /** null when the alias was removed. */
  readonly version: number | null;
}

const reject = (violation: RuleViolation | undefined) => {
  if (violation) throw badInput(violation.message, { field: violation.field });
};

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
    createdAt: model.createdAt.toISOString(),
    versions,
    aliases: aliases.sort((a, b) => a.name.localeCompare(b.name)),
  };
}

const POPULATE = ['versions', 'aliases', 'aliases.version'] as const;

/** The model registry: versions are immutable, aliases move. */
export class RegistryService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly artifacts: ArtifactStore,
  ) {}

  async createModel(em: EntityManager, input: CreateModelInput): Promise<ModelView> {
    reject(checkModelName(input.name));
    reject(checkLabels(input.labels));
    em.create(Model, {
      name: input.name,
      labels: [...input.labels],
      description: input.description?.trim() ?? '',
      task: input.task?.trim() || 'text-classification',
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

  async getModel(em: EntityManager, name: string): Promise<ModelView | null> {
    const model = await em.findOne(Model, { name }, { populate: POPULATE });
    return model ? toViews(model) : null;
  }

  private async getModelOrFail(em: EntityManager, name: string): Promise<ModelView> {
    const view = await this.getModel(em, name);
    if (!view) throw new AppError('NOT_FOUND', `No model named ${name}.`, { field: 'model' });
    return view;
  }

  /** Models by name; versions and aliases come in three queries per page, not one per model. */
  async listModels(em: EntityManager, first: number, afterName: string | undefined) {
    const repo = em.getRepository(Model);
    const { rows, hasMore } = await repo.listPage(first, afterName);
    await em.populate(rows, POPULATE);
    return { nodes: rows.map(toViews), hasMore, totalCount: () => repo.count() };
  }

  /**
   * Stores the artifact, then numbers and records the version under a lock on the model row, so
   * concurrent registrations get distinct numbers. A failure leaves neither row nor new file.
   */
  async registerVersion(em: EntityManager, modelName: string, input: NewVersion): Promise<ModelVersionView> {
    const stored = await this.artifacts.put(input.bytes, 'onnx');
    try {
      const version = await em.transactional(async (tx) => {
        const model = await tx.findOne(Model, { name: modelName }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!model) throw new AppError('NOT_FOUND', `No model named ${modelName}.`, { field: 'model' });
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

  async setAlias(em: EntityManager, modelName: string, alias: string, versionNumber: number): Promise<ModelView> {
    reject(checkAliasName(alias));
    const model = await em.findOne(Model, { name: modelName });
    if (!model) throw new AppError('NOT_FOUND', `No model named ${modelName}.`, { field: 'model' });
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

  async removeAlias(em: EntityManager, modelName: string, alias: string): Promise<ModelView> {
    const model = await em.findOne(Model, { name: modelName });
    if (!model) throw new AppError('NOT_FOUND', `No model named ${modelName}.`, { field: 'model' });
    const removed = await em.nativeDelete(ModelAlias, { model, name: alias });
    if (removed === 0) throw new AppError('NOT_FOUND', `Model ${modelName} has no alias ${alias}.`, { field: 'alias' });
    await this.publish({ model: modelName, alias, version: null });
    return this.getModelOrFail(em.fork(), modelName);
  }

  /** Refused while an alias points at the version; the artifact goes when no version uses it. */
  async deleteVersion(em: EntityManager, modelName: string, versionNumber: number): Promise<ModelView> {
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

  private async publish(event: AliasChangedEvent): Promise<void> {
    await this.deps.events.publish(`model.${event.model}`, event);
  }
}

import { LockMode, UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import type { Readable } from 'node:stream';
import { canRead, type Visibility } from '../../domain/auth/index.js';
import {
  DEFAULT_SPLIT_RATIO,
  type ReportAccumulator,
  checkDatasetName,
  checkSplitRatio,
  digestFromInt64,
  digestToInt64,
  mergeReports,
  textDigests,
  type TextDigests,
  type ValidationReport,
} from '../../domain/dataset/index.js';
import { checkLabels, type RuleViolation } from '../../domain/registry.js';
import { isUuid } from '../../domain/ids.js';
import { Dataset, DatasetVersion, type DatasetChanges, type ExampleFilter, type ExampleRow } from '../../entities/index.js';
import { AppError, badInput } from '../../errors.js';
import type { Principal } from '../auth/principals.js';
import { mayCreate, mayManage, mayRead, readableFilter, signedIn } from '../authz.js';
import type { ServiceDeps } from '../context.js';
import { BATCH_ROWS, MAX_REPORTED_PROBLEMS, ingest, rowsSource, withLines, type BatchWriter, type CheckedSource, type IngestResult, type IngestRules } from './ingest.js';
import { DATASET_FORMATS, csvRecordLines, fileRecords, formatOfFileName, type DatasetFormat } from './records.js';
import { spoolDatasetUpload } from './spool.js';
import { importSpamAssassin, type ImportProgress, type SpamAssassinImport } from './spam-assassin.js';

export interface DatasetVersionView {
  readonly id: string;
  readonly datasetId: string;
  readonly datasetName: string;
  readonly version: number;
  readonly parentId: string | null;
  readonly parentVersion: number | null;
  /** Ancestor version ids, oldest first, ending with this version's id. */
  readonly lineage: readonly string[];
  /** The version numbers of `lineage`. */
  readonly lineageVersions: readonly number[];
  readonly changes: DatasetChanges;
  readonly rowCount: number;
  readonly splitRatio: number;
  readonly validation: ValidationReport;
  readonly createdBy: string | null;
  readonly createdAt: string;
}

export interface DatasetView {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly labels: readonly string[];
  readonly owner: string | null;
  readonly visibility: Visibility;
  readonly createdAt: string;
  /** Newest first. */
  readonly versions: readonly DatasetVersionView[];
}

export interface ExampleView {
  readonly id: string;
  readonly text: string;
  readonly label: string;
  readonly source: string | null;
  readonly split: string;
  /** The version that added it. */
  readonly version: number;
}

export interface CreateDatasetInput {
  readonly name: string;
  readonly labels: readonly string[];
  readonly description?: string | null;
  readonly visibility?: Visibility | null;
}

export interface UploadedDatasetVersion {
  /** The dataset's id or name. */
  readonly dataset: string;
  readonly file: Readable;
  readonly fileName?: string | null;
  /** Else from the file name (.csv, .jsonl / .ndjson). */
  readonly format?: DatasetFormat | null;
  readonly splitRatio?: number | null;
  readonly note?: string | null;
}

export interface NewExample {
  readonly text: string;
  readonly label: string;
  readonly source?: string | null;
  readonly split?: 'train' | 'test' | null;
}

export interface DeriveDatasetVersionInput {
  readonly dataset: string;
  readonly parentVersion: number;
  readonly examples: readonly NewExample[];
  readonly note?: string | null;
}

export interface CreatedVersion {
  readonly dataset: DatasetView;
  readonly version: DatasetVersionView;
}

export const MAX_NOTE_LENGTH = 2000;

export const noSuchDataset = (ref: string) => new AppError('NOT_FOUND', `No dataset ${isUuid(ref) ? 'with id' : 'named'} ${ref}.`, { field: 'dataset' });
const noSuchVersion = (name: string, version: number) => new AppError('NOT_FOUND', `Dataset ${name} has no version ${version}.`, { field: 'version' });

function reject(violation: RuleViolation | undefined): void {
  if (violation) throw badInput(violation.message, { field: violation.field });
}

const byRef = (ref: string) => (isUuid(ref) ? { id: ref.toLowerCase() } : { name: ref });

function versionView(dataset: Dataset, v: DatasetVersion, numbers: ReadonlyMap<string, number>): DatasetVersionView {
  return {
    id: v.id,
    datasetId: dataset.id,
    datasetName: dataset.name,
    version: v.version,
    parentId: v.parent?.id ?? null,
    parentVersion: v.parent ? (numbers.get(v.parent.id) ?? null) : null,
    lineage: v.lineage,
    lineageVersions: v.lineage.map((id) => numbers.get(id) ?? 0),
    changes: v.changes,
    rowCount: v.rowCount,
    splitRatio: v.splitRatio,
    validation: v.validation as unknown as ValidationReport,
    createdBy: v.createdBy,
    createdAt: v.createdAt.toISOString(),
  };
}

function toView(dataset: Dataset): DatasetView {
  const versions = dataset.versions.getItems();
  const numbers = new Map(versions.map((v) => [v.id, v.version]));
  return {
    id: dataset.id,
    name: dataset.name,
    description: dataset.description,
    labels: dataset.labels,
    owner: dataset.owner,
    visibility: dataset.visibility,
    createdAt: dataset.createdAt.toISOString(),
    versions: versions.sort((a, b) => b.version - a.version).map((v) => versionView(dataset, v, numbers)),
  };
}

function refused(checked: CheckedSource, what: string): AppError {
  const first = checked.problems[0]!;
  const more = checked.problemCount - 1;
  return badInput(
    `${what} was refused: ${first.message}${more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'}${checked.problemCount > MAX_REPORTED_PROBLEMS ? `; the first ${MAX_REPORTED_PROBLEMS} are in extensions.problems` : ' in extensions.problems'})` : ''} Nothing was stored.`,
    { field: 'file', problems: checked.problems, problemCount: checked.problemCount },
  );
}

/** Datasets: labelled text in immutable versions, uploaded, derived, imported and exported in streams. */
export class DatasetService {
  constructor(private readonly deps: ServiceDeps) {}

  private get limits() {
    return this.deps.config.dataset;
  }

  private rules(dataset: Dataset, splitRatio: number): IngestRules {
    return {
      labels: new Set(dataset.labels),
      maxTextLength: this.limits.maxTextLength,
      maxSourceLength: 1000,
      maxRows: this.limits.maxRows,
      splitRatio,
    };
  }

  async createDataset(em: EntityManager, actor: Principal | null, input: CreateDatasetInput): Promise<DatasetView> {
    const owner = mayCreate(actor);
    return this.insertDataset(em, owner.id, input);
  }

  private async insertDataset(em: EntityManager, owner: string | null, input: CreateDatasetInput): Promise<DatasetView> {
    reject(checkDatasetName(input.name));
    reject(checkLabels(input.labels));
    const dataset = em.create(Dataset, {
      name: input.name,
      labels: [...input.labels],
      description: input.description?.trim() ?? '',
      owner,
      visibility: input.visibility ?? 'PRIVATE',
    });
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw new AppError('CONFLICT', `A dataset named ${input.name} already exists.`, { field: 'name' });
      }
      throw error;
    }
    return toView(dataset);
  }

  /** Null when there is no such dataset or the caller may not see it. */
  async getDataset(em: EntityManager, actor: Principal | null, ref: string): Promise<DatasetView | null> {
    const me = signedIn(actor);
    const dataset = await em.findOne(Dataset, byRef(ref), { populate: ['versions', 'versions.parent'] });
    return dataset && canRead(me, dataset) ? toView(dataset) : null;
  }

  private async view(em: EntityManager, id: string): Promise<DatasetView> {
    return toView(await em.fork({ keepTransactionContext: true }).findOneOrFail(Dataset, { id }, { populate: ['versions', 'versions.parent'] }));
  }

  /** Datasets by name; versions come in one more query per page. */
  async listDatasets(em: EntityManager, actor: Principal | null, first: number, afterName: string | undefined) {
    const visible = readableFilter(signedIn(actor)) ?? {};
    const repo = em.getRepository(Dataset);
    const { rows, hasMore } = await repo.listPage(first, afterName, visible);
    await em.populate(rows, ['versions', 'versions.parent']);
    return { nodes: rows.map(toView), hasMore, totalCount: () => repo.count(visible) };
  }

  /**
   * A new version from an uploaded CSV or JSON Lines file. The file is spooled to disk under
   * ARENA_DATASET_UPLOAD_LIMIT_BYTES, read once to validate every row and build the report, and
   * only then read again into the database in one transaction with the version row: a bad row
   * anywhere leaves nothing behind, and memory never grows with the file.
   */
  async createVersionFromUpload(em: EntityManager, actor: Principal | null, input: UploadedDatasetVersion): Promise<CreatedVersion> {
    let dataset: Dataset;
    let format: DatasetFormat;
    let splitRatio: number;
    try {
      dataset = mayManage(actor, await em.findOne(Dataset, byRef(input.dataset)), () => noSuchDataset(input.dataset), `dataset ${input.dataset}`);
      const given = input.format ?? formatOfFileName(input.fileName);
      if (!given) {
        throw badInput(`Cannot tell the format of ${JSON.stringify(input.fileName ?? '')}: name the file .csv or .jsonl, or pass format (${DATASET_FORMATS.join(', ').toUpperCase()}).`, {
          field: 'format',
        });
      }
      format = given;
      splitRatio = input.splitRatio ?? DEFAULT_SPLIT_RATIO;
      const bad = checkSplitRatio(splitRatio);
      if (bad) throw badInput(bad, { field: 'splitRatio' });
      this.checkNote(input.note);
    } catch (error) {
      input.file.resume(); // drain it, so the request can finish
      throw error;
    }
    const spooled = await spoolDatasetUpload(this.deps.config, input.file);
    try {
      const rules = this.rules(dataset, splitRatio);
      return await this.writeVersion(em, actor!.id, dataset.id, null, splitRatio, async (write) => {
        const result = await ingest(fileRecords(spooled.path, format, this.limits.maxTextLength), rules, write);
        if (result.problemCount > 0) {
          // CSV records carry their number; their true lines (quoted fields span lines) are looked up now.
          const records = new Set(result.problems.flatMap((p) => (p.record === undefined ? [] : [p.record])));
          const problems = records.size > 0 ? withLines(result.problems, await csvRecordLines(spooled.path, this.limits.maxTextLength, records)) : result.problems;
          throw refused({ ...result, problems }, 'The file');
        }
        if (result.report.rows === 0) throw badInput('The file has no rows: nothing to make a version of.', { field: 'file', problems: [], problemCount: 0 });
        return {
          result,
          changes: { source: 'UPLOAD', added: result.written, format, fileName: input.fileName?.slice(0, 255) ?? null, note: input.note?.trim() || null },
        };
      });
    } finally {
      await spooled.remove();
    }
  }

  /**
   * A version made of its parent plus new examples, storing only the new ones. Battles call this
   * with evaded samples. The split ratio is the parent's, so a text falls on the same side in
   * every version of a lineage.
   */
  async deriveVersion(em: EntityManager, actor: Principal | null, input: DeriveDatasetVersionInput): Promise<CreatedVersion> {
    const dataset = mayManage(actor, await em.findOne(Dataset, byRef(input.dataset)), () => noSuchDataset(input.dataset), `dataset ${input.dataset}`);
    this.checkNote(input.note);
    const parent = await em.findOne(DatasetVersion, { dataset, version: input.parentVersion });
    if (!parent) throw noSuchVersion(dataset.name, input.parentVersion);
    if (input.examples.length === 0) throw badInput('examples must hold at least one example: a derived version adds rows.', { field: 'examples' });
    const rules = this.rules(dataset, parent.splitRatio);
    const rows = input.examples.map((e) => ({ text: e.text, label: e.label, source: e.source ?? null, split: e.split ?? null }));
    // Duplicates of the parent's rows count in the report: seed it with the parent rows that share a digest.
    const hashes = [...new Set(rows.filter((r) => typeof r.text === 'string').map((r) => digestToInt64(textDigests(r.text).normalized)))];
    const matches = await em.getRepository(Dataset).examplesWithHashes(parent.lineage, hashes);
    const seed = (acc: ReportAccumulator) => {
      for (const m of matches) acc.seen({ exact: textDigests(m.text).exact, normalized: digestFromInt64(m.textHash) });
    };
    return this.writeVersion(em, actor!.id, dataset.id, parent, parent.splitRatio, async (write) => {
      const result = await ingest(rowsSource(rows), rules, write, seed);
      if (result.problemCount > 0) {
        const problems = result.problems.map((p) => ({ line: p.line, message: p.message.replace(/^line (\d+):/, (_m, n: string) => `examples[${Number(n) - 1}]:`) }));
        throw refused({ ...result, problems }, 'The examples');
      }
      return {
        result: { ...result, report: mergeReports(parent.validation as unknown as ValidationReport, result.report) },
        changes: { source: 'DERIVED', added: result.written, format: null, fileName: null, note: input.note?.trim() || null },
      };
    });
  }

  /**
   * Numbers and writes a version and its rows in one transaction under a lock on the dataset row,
   * so concurrent versions get distinct numbers and a failure — a bad row found by `fill`, which
   * then throws — rolls back the version row and every example written before it.
   */
  private async writeVersion(
    em: EntityManager,
    createdBy: string | null,
    datasetId: string,
    parent: DatasetVersion | null,
    splitRatio: number,
    fill: (write: BatchWriter) => Promise<{ result: IngestResult; changes: DatasetChanges }>,
  ): Promise<CreatedVersion> {
    const id = await em.transactional(async (tx) => {
      const dataset = await tx.findOne(Dataset, { id: datasetId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!dataset) throw noSuchDataset(datasetId);
      const repo = tx.getRepository(Dataset);
      const version = tx.create(DatasetVersion, {
        dataset,
        version: await repo.nextVersionNumber(dataset.id),
        parent: parent ? tx.getReference(DatasetVersion, parent.id) : null,
        lineage: [],
        // Filled in below, once the rows are in.
        changes: { source: 'UPLOAD', added: 0, format: null, fileName: null, note: null },
        rowCount: 0,
        splitRatio,
        validation: {},
        createdBy,
      });
      version.lineage = [...(parent?.lineage ?? []), version.id];
      await tx.flush();
      const { result, changes } = await fill((rows) => repo.insertExamples(version.id, rows));
      version.changes = changes;
      version.rowCount = (parent?.rowCount ?? 0) + result.written;
      version.validation = result.report as unknown as Record<string, unknown>;
      await tx.flush();
      return version.id;
    });
    const dataset = await this.view(em, datasetId);
    return { dataset, version: dataset.versions.find((v) => v.id === id)! };
  }

  /** Refused while anything depends on one of its versions (a model version trained on it). */
  async deleteDataset(em: EntityManager, actor: Principal | null, ref: string): Promise<{ id: string; name: string }> {
    const dataset = mayManage(actor, await em.findOne(Dataset, byRef(ref)), () => noSuchDataset(ref), `dataset ${ref}`);
    return em.transactional(async (tx) => {
      const locked = await tx.findOneOrFail(Dataset, { id: dataset.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const dependents = await tx.getRepository(Dataset).dependents(locked.id);
      if (dependents.length > 0) {
        const list = dependents
          .map((d) => (d.kind === 'model-version' ? `model ${d.name} version ${d.version} (trained on version ${d.datasetVersion})` : `training run ${d.name} (on version ${d.datasetVersion}, not finished)`))
          .join(', ');
        throw new AppError('CONFLICT', `Dataset ${locked.name} cannot be deleted while something depends on it: ${list}. Delete those first.`, {
          dependents: dependents.map((d) => ({ kind: d.kind, name: d.name, version: d.version, datasetVersion: d.datasetVersion })),
        });
      }
      // Versions and their examples go with it (on delete cascade).
      await tx.nativeDelete(Dataset, { id: locked.id });
      return { id: locked.id, name: locked.name };
    });
  }

  /** A page of a version's examples. `version` came from getDataset or listDatasets, which checked that the caller may read it. */
  async examples(em: EntityManager, version: DatasetVersionView, first: number, afterId: number | undefined, filter: ExampleFilter) {
    const repo = em.getRepository(Dataset);
    const rows = await repo.pageExamples(version.lineage, afterId, first + 1, filter);
    const numbers = new Map(version.lineage.map((id, i) => [id, version.lineageVersions[i]!]));
    return {
      nodes: rows.slice(0, first).map((r) => exampleView(r, numbers)),
      hasMore: rows.length > first,
      totalCount: () => repo.countExamples(version.lineage, filter),
    };
  }

  /** The version to export, checked like any read: NOT_FOUND for what the caller may not see. */
  async openExport(em: EntityManager, actor: Principal | null, ref: string, versionNumber: number): Promise<DatasetVersionView> {
    const dataset = mayRead(actor, await em.findOne(Dataset, byRef(ref), { populate: ['versions', 'versions.parent'] }), () => noSuchDataset(ref));
    const view = toView(dataset);
    const version = view.versions.find((v) => v.version === versionNumber);
    if (!version) throw noSuchVersion(dataset.name, versionNumber);
    return version;
  }

  /** A version's examples in id order, a page at a time (keyset), for streaming exports. */
  async *exportPages(em: EntityManager, version: DatasetVersionView, pageSize = BATCH_ROWS): AsyncGenerator<ExampleRow[]> {
    const repo = em.getRepository(Dataset);
    let after: number | undefined;
    for (;;) {
      const rows = await repo.pageExamples(version.lineage, after, pageSize);
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < pageSize) return;
      after = rows.at(-1)!.id;
    }
  }

  /** SpamAssassin's public corpus as a new version of `name` (default spam-assassin); see spam-assassin.ts. */
  importSpamAssassin(
    em: EntityManager,
    actor: Principal | null,
    options: { name?: string; splitRatio?: number; onProgress?: (p: ImportProgress) => void } = {},
  ): Promise<SpamAssassinImport> {
    return importSpamAssassin(this, em, actor, { ...options, maxTextLength: this.limits.maxTextLength });
  }

  private checkNote(note: string | null | undefined): void {
    if (note && note.length > MAX_NOTE_LENGTH) throw badInput(`note is ${note.length} characters; the limit is ${MAX_NOTE_LENGTH}.`, { field: 'note' });
  }

  /**
   * Writes rows the platform made itself (an import) as a new version of a dataset, creating the
   * dataset first if needed. `actor` null: the platform (the CLI), whose datasets every signed-in
   * user may read.
   */
  async importRows(
    em: EntityManager,
    actor: Principal | null,
    input: {
      name: string;
      labels: readonly string[];
      description: string;
      rows: readonly NewExample[];
      /** Each row's digests, when the caller computed them already. */
      digests?: readonly TextDigests[];
      splitRatio?: number;
      note?: string;
      fileName?: string;
    },
  ): Promise<CreatedVersion> {
    let dataset = await em.findOne(Dataset, { name: input.name });
    if (!dataset) {
      const created = actor ? await this.createDataset(em, actor, input) : await this.insertDataset(em, null, { ...input, visibility: 'SHARED' });
      dataset = await em.findOneOrFail(Dataset, { id: created.id });
    } else if (actor) {
      mayManage(actor, dataset, () => noSuchDataset(input.name), `dataset ${input.name}`);
    }
    const missing = input.labels.filter((l) => !dataset.labels.includes(l));
    if (missing.length > 0) throw badInput(`Dataset ${dataset.name} has no label ${missing.join(', ')}; import into a dataset with labels ${input.labels.join(', ')}.`, { field: 'name' });
    const splitRatio = input.splitRatio ?? DEFAULT_SPLIT_RATIO;
    const bad = checkSplitRatio(splitRatio);
    if (bad) throw badInput(bad, { field: 'splitRatio' });
    const rules = this.rules(dataset, splitRatio);
    const rows = input.rows.map((r) => ({ text: r.text, label: r.label, source: r.source ?? null, split: r.split ?? null }));
    return this.writeVersion(em, actor?.id ?? null, dataset.id, null, splitRatio, async (write) => {
      const result = await ingest(rowsSource(rows, input.digests), rules, write);
      if (result.problemCount > 0) throw refused(result, 'The import');
      return { result, changes: { source: 'IMPORT', added: result.written, format: null, fileName: input.fileName ?? null, note: input.note ?? null } };
    });
  }
}

function exampleView(r: ExampleRow, numbers: ReadonlyMap<string, number>): ExampleView {
  return { id: String(r.id), text: r.text, label: r.label, source: r.source, split: r.split, version: numbers.get(r.versionId) ?? 0 };
}

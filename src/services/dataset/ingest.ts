import {
  ReportAccumulator,
  digestToInt64,
  splitOf,
  textDigests,
  validateRecord,
  type RowProblem,
  type RowRules,
  type TextDigests,
  type ValidationReport,
} from '../../domain/dataset/index.js';
import type { NewExampleRow } from '../../entities/index.js';
import { FileProblem } from './utf8.js';
import { isProblem, type SourceItem } from './records.js';

/** Problems listed in an error; the rest are counted. */
export const MAX_REPORTED_PROBLEMS = 20;
/** Rows per INSERT statement, and a bound on the characters they hold (long e-mails). */
export const BATCH_ROWS = 5000;
const BATCH_CHARS = 8 * 1024 * 1024;

export interface IngestRules extends RowRules {
  readonly maxRows: number;
  readonly splitRatio: number;
}

export interface Problem {
  readonly line: number;
  readonly message: string;
  /** A CSV record's number, when `line` is a guess (see csvRecords). */
  readonly record?: number;
}

export interface CheckedSource {
  readonly report: ValidationReport;
  readonly problems: readonly Problem[];
  readonly problemCount: number;
}

/** Writes one batch of rows (DatasetRepository.insertExamples for a version). */
export type BatchWriter = (rows: readonly NewExampleRow[]) => Promise<void>;

export interface IngestResult extends CheckedSource {
  /** Rows handed to the writer. */
  readonly written: number;
}

/**
 * One pass over the records: validates each, builds the report (counts and two sets of 8-byte
 * digests, never the texts) and, while no problem has been seen, hands rows to `write` in
 * multi-row batches — the caller runs this inside the transaction that holds the version row and
 * rolls it back when `problemCount > 0`, so a bad row anywhere leaves nothing behind. After the
 * first problem nothing more is written, but reading goes on to list the first few problems;
 * it stops at a problem that ends the file (bad UTF-8, unbalanced quotes, an endless line) or past
 * the row limit. One statement stays in flight while the next batch is built, so a database
 * server works while this process parses.
 */
export async function ingest(
  batches: AsyncIterable<readonly SourceItem[]>,
  rules: IngestRules,
  write: BatchWriter | undefined,
  seed?: (acc: ReportAccumulator) => void,
): Promise<IngestResult> {
  const acc = new ReportAccumulator([...rules.labels]);
  seed?.(acc);
  const problems: Problem[] = [];
  let problemCount = 0;
  const note = (p: Pick<RowProblem, 'line' | 'message'>, record?: number) => {
    problemCount++;
    if (problems.length < MAX_REPORTED_PROBLEMS) problems.push(record === undefined ? { line: p.line, message: p.message } : { line: p.line, message: p.message, record });
  };
  let batch: NewExampleRow[] = [];
  let chars = 0;
  let written = 0;
  let inFlight: Promise<void> | undefined;
  const flush = async () => {
    const rows = batch;
    batch = [];
    chars = 0;
    await inFlight;
    if (problemCount > 0 || !write) return;
    inFlight = write(rows).then(() => {
      written += rows.length;
    });
    // Awaited at the next flush or at the end; until then a failure must not count as unhandled.
    inFlight.catch(() => undefined);
  };
  try {
    read: for await (const items of batches) {
      for (const item of items) {
        if (isProblem(item)) {
          acc.reject(item.problem);
          note(item.problem);
          continue;
        }
        const checked = validateRecord(item, rules);
        if ('problem' in checked) {
          acc.reject(checked.problem);
          note(checked.problem, item.record);
          continue;
        }
        if (acc.rowCount >= rules.maxRows) {
          note({ line: item.line, message: `line ${item.line}: more than ${rules.maxRows} rows, the limit per upload (ARENA_DATASET_MAX_ROWS); reading stopped here.` }, item.record);
          break read;
        }
        const { row } = checked;
        const digests = item.digests ?? textDigests(row.text);
        const split = row.split ?? splitOf(digests.normalized, rules.splitRatio);
        acc.add(row.label, split, digests, row.split !== null);
        if (problemCount > 0 || !write) continue;
        batch.push({ text: row.text, label: row.label, source: row.source, split, textHash: digestToInt64(digests.normalized) });
        chars += row.text.length;
        if (batch.length >= BATCH_ROWS || chars >= BATCH_CHARS) await flush();
      }
    }
  } catch (error) {
    if (!(error instanceof FileProblem)) throw error;
    note({ line: error.line, message: error.message });
  }
  if (batch.length > 0) await flush();
  await inFlight;
  return { report: acc.report(), problems, problemCount, written };
}

/** Problems with their true lines: `lines` maps CSV record numbers to the line each ends on. */
export function withLines(problems: readonly Problem[], lines: ReadonlyMap<number, number>): Problem[] {
  return problems.map((p) => {
    const line = p.record === undefined ? undefined : lines.get(p.record);
    return line === undefined ? p : { line, message: p.message.replace(/^line \d+:/, `line ${line}:`) };
  });
}

/** Plain rows as a source, for derived versions and imports; `digests[i]`, when given, is row i's. */
export async function* rowsSource(rows: readonly Readonly<Record<string, unknown>>[], digests?: readonly TextDigests[]): AsyncGenerator<SourceItem[]> {
  for (let start = 0; start < rows.length; start += BATCH_ROWS) {
    const batch: SourceItem[] = [];
    for (let i = start; i < Math.min(rows.length, start + BATCH_ROWS); i++) {
      batch.push(digests?.[i] ? { line: i + 1, fields: rows[i]!, digests: digests[i] } : { line: i + 1, fields: rows[i]! });
    }
    yield batch;
  }
}

import { parse, CsvError } from 'csv-parse';
import { Readable } from 'node:stream';
import { MAX_SOURCE_LENGTH, checkHeader, type RawRecord, type RowProblem, type TextDigests } from '../../domain/dataset/index.js';
import { FileProblem, utf8Chunks } from './utf8.js';

export const DATASET_FORMATS = ['csv', 'jsonl'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/**
 * A record, or a line that holds none (a broken JSON line): its problem. A source that already
 * hashed the text (an import that dropped duplicates) passes the digests along.
 */
export type SourceItem =
  | (RawRecord & {
      readonly digests?: TextDigests;
      /** CSV: the record's number (1 for the first after the header); `line` is then only a guess, see csvRecordLines. */
      readonly record?: number;
    })
  | { readonly line: number; readonly problem: RowProblem };

export const isProblem = (item: SourceItem): item is Extract<SourceItem, { problem: RowProblem }> => 'problem' in item;

/** The format a file name implies, if any. */
export function formatOfFileName(name: string | null | undefined): DatasetFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(name ?? '')?.[1]?.toLowerCase();
  if (ext === 'csv') return 'csv';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  return undefined;
}

/**
 * Bytes one record may take before reading stops: a text at the length limit written in the most
 * expensive encoding the format allows (UTF-8: up to 3 bytes per UTF-16 unit; JSON escapes: 6),
 * with room for the other fields. Far past the text limit, a line is refused without ever being
 * held whole.
 */
export const maxRecordBytes = (format: DatasetFormat, maxTextLength: number) =>
  (format === 'csv' ? 3 : 6) * (maxTextLength + MAX_SOURCE_LENGTH) + 4096;

/**
 * Records of a CSV file with a header row (text, label, optional source and split), streamed.
 * csv-parse's per-record `info` (the line a record ends on) doubles the cost of parsing, so
 * records carry their number instead and `line` is the line they would be on without quoted
 * newlines or blank lines; csvRecordLines finds the true lines of the few records an error names.
 */
export async function* csvRecords(path: string, maxTextLength: number): AsyncGenerator<SourceItem[]> {
  const parser = csvParser(maxTextLength, false);
  const input = Readable.from(utf8Chunks(path));
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  let record = 0;
  try {
    for await (const batch of readBatches<Record<string, string>>(parser)) {
      const items: SourceItem[] = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) {
        record++;
        items[i] = { line: record + 1, record, fields: batch[i]! };
      }
      yield items;
    }
  } catch (error) {
    if (error instanceof FileProblem) throw error;
    if (error instanceof CsvError) throw csvProblem(error, maxTextLength, await lastCompleteLine(path, maxTextLength, record));
    throw error;
  } finally {
    input.destroy();
  }
}

/**
 * An object stream's items in the batches that are buffered at once: a promise per batch rather
 * than per record (per-record promises and their async hooks cost more than parsing a row).
 */
export async function* readBatches<T>(stream: Readable): AsyncGenerator<T[]> {
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const onReadable = () => wake?.();
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  const onError = (error: unknown) => {
    failure = error;
    wake?.();
  };
  stream.on('readable', onReadable);
  stream.on('end', onEnd);
  stream.on('error', onError);
  try {
    for (;;) {
      if (failure) throw failure;
      const batch: T[] = [];
      for (let item = stream.read() as T | null; item !== null; item = stream.read() as T | null) batch.push(item);
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (failure) throw failure;
      if (ended || stream.readableEnded) return;
      // Stream events come on a later tick, never between the read above and this wait.
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    stream.off('readable', onReadable);
    stream.off('end', onEnd);
    stream.off('error', onError);
  }
}

function csvParser(maxTextLength: number, info: boolean) {
  return parse({
    bom: true,
    info,
    skip_empty_lines: true,
    max_record_size: maxRecordBytes('csv', maxTextLength),
    columns: (header: string[]) => {
      const problem = checkHeader(header);
      if (problem) throw new FileProblem(1, problem);
      return header;
    },
  });
}

/** The line each of `records` (record numbers) ends on, read again with csv-parse's info: only on the error path. */
export async function csvRecordLines(path: string, maxTextLength: number, records: ReadonlySet<number>): Promise<Map<number, number>> {
  const lines = new Map<number, number>();
  const last = Math.max(0, ...records);
  const parser = csvParser(maxTextLength, true);
  const input = Readable.from(utf8Chunks(path));
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  let record = 0;
  try {
    for await (const item of parser as AsyncIterable<{ info: { lines: number } }>) {
      record++;
      if (records.has(record)) lines.set(record, item.info.lines);
      if (record >= last) break;
    }
  } catch {
    // The file's own error is reported already; lines found so far stand.
  } finally {
    input.destroy();
  }
  return lines;
}

async function lastCompleteLine(path: string, maxTextLength: number, record: number): Promise<number> {
  if (record === 0) return 1;
  return (await csvRecordLines(path, maxTextLength, new Set([record]))).get(record) ?? record + 1;
}

function csvProblem(error: CsvError, maxTextLength: number, lastLine: number): FileProblem {
  const line = typeof error['lines'] === 'number' ? error['lines'] : 1;
  switch (error.code) {
    case 'CSV_MAX_RECORD_SIZE':
      return new FileProblem(line, `the record is far longer than the text limit of ${maxTextLength} characters (ARENA_DATASET_MAX_TEXT_LENGTH); reading stopped here.`);
    case 'CSV_QUOTE_NOT_CLOSED':
      return new FileProblem(lastLine + 1, `a quoted field opened on or after this line is never closed (unbalanced quotes; the file ends at line ${line}).`);
    default:
      // csv-parse's own messages name the problem and its line, e.g. "Invalid Closing Quote: …".
      return new FileProblem(line, error.message);
  }
}

const NEWLINE = 0x0a;

/**
 * Records of a JSON Lines file: one JSON object per line, blank lines skipped. A line that is not
 * a JSON object is a problem of that line (reading goes on, to report the first few); a line
 * longer than the record limit stops the read before it is held whole.
 */
export async function* jsonlRecords(path: string, maxTextLength: number): AsyncGenerator<SourceItem[]> {
  const limit = maxRecordBytes('jsonl', maxTextLength);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 0;
  const item = (bytes: Buffer): SourceItem | undefined => {
    line++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    const text = bytes.toString('utf8', 0, end);
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { line, problem: { line, kind: 'MALFORMED', message: `line ${line}: not valid JSON (${(error as Error).message}).` } };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { line, problem: { line, kind: 'MALFORMED', message: `line ${line}: expected a JSON object like {"text": …, "label": …}.` } };
    }
    return { line, fields: value as Record<string, unknown> };
  };
  for await (const chunk of utf8Chunks(path)) {
    const items: SourceItem[] = [];
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
      const piece = chunk.subarray(from, nl);
      if (pendingBytes + piece.length > limit) {
        if (items.length > 0) yield items; // the lines before it still count
        throw tooLong(line + 1, limit, maxTextLength);
      }
      const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      const next = item(bytes);
      if (next) items.push(next);
      from = nl + 1;
    }
    if (from < chunk.length) {
      const rest = chunk.subarray(from);
      pendingBytes += rest.length;
      if (pendingBytes > limit) {
        if (items.length > 0) yield items;
        throw tooLong(line + 1, limit, maxTextLength);
      }
      pending.push(rest);
    }
    if (items.length > 0) yield items;
  }
  if (pendingBytes > 0) {
    const next = item(Buffer.concat(pending));
    if (next) yield [next];
  }
}

const tooLong = (line: number, limit: number, maxTextLength: number) =>
  new FileProblem(line, `the line is longer than ${limit} bytes, far past the text limit of ${maxTextLength} characters (ARENA_DATASET_MAX_TEXT_LENGTH); reading stopped here.`);

/** A file's records, in batches. */
export function fileRecords(path: string, format: DatasetFormat, maxTextLength: number): AsyncGenerator<SourceItem[]> {
  return format === 'csv' ? csvRecords(path, maxTextLength) : jsonlRecords(path, maxTextLength);
}

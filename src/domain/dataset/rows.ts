import { isSplit, type Split } from './normalize.js';

/** One record as a file gave it: CSV cells are strings; a JSON line may hold anything. */
export interface RawRecord {
  /** 1-based line (CSV: the line the record starts on; the header is line 1). */
  readonly line: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface ValidRow {
  readonly text: string;
  readonly label: string;
  readonly source: string | null;
  /** As the file gave it; null: the deterministic split decides. */
  readonly split: Split | null;
}

export const PROBLEM_KINDS = ['MISSING_COLUMN', 'EMPTY_TEXT', 'OVERSIZED_TEXT', 'UNKNOWN_LABEL', 'BAD_VALUE', 'MALFORMED'] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export interface RowProblem {
  readonly line: number;
  readonly kind: ProblemKind;
  readonly message: string;
}

export interface RowRules {
  readonly labels: ReadonlySet<string>;
  /** Characters (UTF-16 code units) per text. */
  readonly maxTextLength: number;
  readonly maxSourceLength: number;
}

export const REQUIRED_COLUMNS = ['text', 'label'] as const;
export const OPTIONAL_COLUMNS = ['source', 'split'] as const;
export const MAX_SOURCE_LENGTH = 1000;

/** A CSV header's problem, if any: both required columns must be there, each column once. */
export function checkHeader(columns: readonly string[]): string | undefined {
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    return `the header has no ${missing.map((c) => `"${c}"`).join(' or ')} column (it has ${columns.map((c) => JSON.stringify(c)).join(', ') || 'none'}); expected text, label and optionally source, split.`;
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) return `the header names the column "${c}" twice.`;
    seen.add(c);
  }
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;
// eslint-disable-next-line no-control-regex
const NUL = /\u0000/;

/** Text PostgreSQL can store and a person can read: no NUL, no unpaired surrogate. */
function storableProblem(what: string, value: string): string | undefined {
  if (NUL.test(value)) return `${what} contains a NUL character (\\u0000), which cannot be stored.`;
  if (LONE_SURROGATE.test(value)) return `${what} contains an unpaired UTF-16 surrogate (an invalid \\uD800–\\uDFFF escape).`;
  return undefined;
}

const describe = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`);

/** A record's problem, or the row it holds. */
export function validateRecord(record: RawRecord, rules: RowRules): { row: ValidRow } | { problem: RowProblem } {
  const { line, fields } = record;
  const fail = (kind: ProblemKind, message: string) => ({ problem: { line, kind, message: `line ${line}: ${message}` } });
  const text = fields['text'];
  const label = fields['label'];
  if (text === undefined) return fail('MISSING_COLUMN', 'has no "text".');
  if (label === undefined) return fail('MISSING_COLUMN', 'has no "label".');
  if (typeof text !== 'string') return fail('BAD_VALUE', `"text" must be a string; got ${describe(text)}.`);
  if (typeof label !== 'string') return fail('BAD_VALUE', `"label" must be a string; got ${describe(label)}.`);
  if (text.trim() === '') return fail('EMPTY_TEXT', 'the text is empty.');
  if (text.length > rules.maxTextLength) return fail('OVERSIZED_TEXT', `the text is ${text.length} characters; the limit is ${rules.maxTextLength}.`);
  const bad = storableProblem('the text', text);
  if (bad) return fail('BAD_VALUE', bad);
  if (!rules.labels.has(label)) {
    return fail('UNKNOWN_LABEL', `label ${JSON.stringify(label.slice(0, 100))} is not in the dataset's label set (${[...rules.labels].join(', ')}).`);
  }
  let source: string | null = null;
  const rawSource = fields['source'];
  if (rawSource !== undefined && rawSource !== null && rawSource !== '') {
    if (typeof rawSource !== 'string') return fail('BAD_VALUE', `"source" must be a string; got ${describe(rawSource)}.`);
    if (rawSource.length > rules.maxSourceLength) return fail('BAD_VALUE', `the source is ${rawSource.length} characters; the limit is ${rules.maxSourceLength}.`);
    const badSource = storableProblem('the source', rawSource);
    if (badSource) return fail('BAD_VALUE', badSource);
    source = rawSource;
  }
  let split: ValidRow['split'] = null;
  const rawSplit = fields['split'];
  if (rawSplit !== undefined && rawSplit !== null && rawSplit !== '') {
    if (!isSplit(rawSplit)) return fail('BAD_VALUE', `split must be "train", "test" or empty; got ${JSON.stringify(String(rawSplit).slice(0, 40))}.`);
    split = rawSplit;
  }
  return { row: { text, label, source, split } };
}

import { DigestSet } from './digest.js';
import type { TextDigests, Split } from './normalize.js';
import type { ProblemKind, RowProblem } from './rows.js';

export interface LabelCount {
  readonly label: string;
  readonly count: number;
  readonly train: number;
  readonly test: number;
}

/** What a version holds, computed as it is written and stored with it. */
export interface ValidationReport {
  readonly rows: number;
  /** The dataset's label set, in its order. */
  readonly labels: readonly string[];
  /** One entry per label of the set, in its order (zero counts included). */
  readonly classDistribution: readonly LabelCount[];
  readonly splits: { readonly train: number; readonly test: number };
  /** Rows whose split the file gave (the rest were split by hash). */
  readonly splitsFromFile: number;
  /** Rows whose text, byte for byte, came earlier. */
  readonly exactDuplicates: number;
  /** Rows whose normalized text came earlier (exact duplicates included). */
  readonly normalizedDuplicates: number;
  /** Rows refused, by reason (zero for a stored version: a refused row refuses the file). */
  readonly emptyTexts: number;
  readonly oversizedTexts: number;
  readonly unknownLabels: number;
  readonly invalidRows: number;
}

/**
 * Builds a report one row at a time in bounded memory: counts, plus two sets of 8-byte digests
 * (exact and normalized) rather than the texts, so millions of rows cost tens of MiB.
 */
export class ReportAccumulator {
  private rows = 0;
  private splitsFromFile = 0;
  private exactDuplicates = 0;
  private normalizedDuplicates = 0;
  private readonly problems: Record<ProblemKind, number> = {
    MISSING_COLUMN: 0,
    EMPTY_TEXT: 0,
    OVERSIZED_TEXT: 0,
    UNKNOWN_LABEL: 0,
    BAD_VALUE: 0,
    MALFORMED: 0,
  };
  private readonly exact = new DigestSet();
  private readonly normalized = new DigestSet();
  private readonly byLabel = new Map<string, { train: number; test: number }>();

  constructor(private readonly labels: readonly string[]) {
    for (const label of labels) this.byLabel.set(label, { train: 0, test: 0 });
  }

  /** Seeds the duplicate sets with rows a version already holds (its parent's), without counting them as rows. */
  seen(digests: TextDigests): void {
    this.exact.add(digests.exact);
    this.normalized.add(digests.normalized);
  }

  add(label: string, split: Split, digests: TextDigests, splitFromFile: boolean): void {
    this.rows++;
    if (splitFromFile) this.splitsFromFile++;
    if (!this.exact.add(digests.exact)) this.exactDuplicates++;
    if (!this.normalized.add(digests.normalized)) this.normalizedDuplicates++;
    let counts = this.byLabel.get(label);
    if (!counts) this.byLabel.set(label, (counts = { train: 0, test: 0 }));
    counts[split]++;
  }

  reject(problem: Pick<RowProblem, 'kind'>): void {
    this.problems[problem.kind]++;
  }

  get rowCount(): number {
    return this.rows;
  }

  report(): ValidationReport {
    const classDistribution = [...this.byLabel].map(([label, c]) => ({ label, count: c.train + c.test, train: c.train, test: c.test }));
    return {
      rows: this.rows,
      labels: [...this.labels],
      classDistribution,
      splits: {
        train: classDistribution.reduce((s, c) => s + c.train, 0),
        test: classDistribution.reduce((s, c) => s + c.test, 0),
      },
      splitsFromFile: this.splitsFromFile,
      exactDuplicates: this.exactDuplicates,
      normalizedDuplicates: this.normalizedDuplicates,
      emptyTexts: this.problems.EMPTY_TEXT,
      oversizedTexts: this.problems.OVERSIZED_TEXT,
      unknownLabels: this.problems.UNKNOWN_LABEL,
      invalidRows: this.problems.MISSING_COLUMN + this.problems.BAD_VALUE + this.problems.MALFORMED,
    };
  }
}

/**
 * A derived version's report: its parent's plus the new rows. Duplicates between the new rows and
 * the parent count, because the caller seeds the accumulator with the parent's digests.
 */
export function mergeReports(parent: ValidationReport, added: ValidationReport): ValidationReport {
  const byLabel = new Map(parent.classDistribution.map((c) => [c.label, { ...c }]));
  for (const c of added.classDistribution) {
    const p = byLabel.get(c.label) ?? { label: c.label, count: 0, train: 0, test: 0 };
    byLabel.set(c.label, { label: c.label, count: p.count + c.count, train: p.train + c.train, test: p.test + c.test });
  }
  return {
    rows: parent.rows + added.rows,
    labels: added.labels,
    classDistribution: added.labels.map((label) => byLabel.get(label) ?? { label, count: 0, train: 0, test: 0 }),
    splits: { train: parent.splits.train + added.splits.train, test: parent.splits.test + added.splits.test },
    splitsFromFile: parent.splitsFromFile + added.splitsFromFile,
    exactDuplicates: parent.exactDuplicates + added.exactDuplicates,
    normalizedDuplicates: parent.normalizedDuplicates + added.normalizedDuplicates,
    emptyTexts: parent.emptyTexts + added.emptyTexts,
    oversizedTexts: parent.oversizedTexts + added.oversizedTexts,
    unknownLabels: parent.unknownLabels + added.unknownLabels,
    invalidRows: parent.invalidRows + added.invalidRows,
  };
}

/**
 * Classification metrics from gold and predicted labels: what a training run reports on its test
 * split and what decides whether a challenger beats the champion on the same split.
 *
 * Conventions (scikit-learn's, with zero_division = 0): precision, recall or F1 whose denominator
 * is 0 count as 0; macro F1 averages over the labels that occur in the gold or the predicted
 * labels, so a class absent from both neither helps nor hurts.
 */

export interface ClassMetrics {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Gold examples of this label. */
  readonly support: number;
  /** Examples predicted as this label. */
  readonly predicted: number;
}

export interface ClassificationMetrics {
  readonly labels: readonly string[];
  readonly total: number;
  readonly correct: number;
  /** correct / total; 0 when there is nothing to evaluate. */
  readonly accuracy: number;
  readonly macroF1: number;
  /** In the order of `labels`. */
  readonly perClass: readonly ClassMetrics[];
  /** confusion[gold][predicted], indices into `labels`. */
  readonly confusion: readonly (readonly number[])[];
}

/** Index of the largest value; the first one on a tie (as `predict` picks its label). */
function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Metrics from label indices (into `labels`): the trainer's fast path, and what evaluateClassification() calls. */
export function evaluateIndices(gold: ArrayLike<number>, predicted: ArrayLike<number>, labels: readonly string[]): ClassificationMetrics {
  if (gold.length !== predicted.length) throw new RangeError(`${gold.length} gold labels but ${predicted.length} predictions`);
  const C = labels.length;
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  let correct = 0;
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i]!;
    const p = predicted[i]!;
    if (!(g >= 0 && g < C && Number.isInteger(g))) throw new RangeError(`gold label index ${g} at ${i} is outside the ${C} labels`);
    if (!(p >= 0 && p < C && Number.isInteger(p))) throw new RangeError(`predicted label index ${p} at ${i} is outside the ${C} labels`);
    confusion[g]![p]!++;
    if (g === p) correct++;
  }
  const perClass = labels.map((label, c): ClassMetrics => {
    const tp = confusion[c]![c]!;
    let support = 0;
    let predictedCount = 0;
    for (let k = 0; k < C; k++) {
      support += confusion[c]![k]!;
      predictedCount += confusion[k]![c]!;
    }
    const precision = ratio(tp, predictedCount);
    const recall = ratio(tp, support);
    return { label, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support, predicted: predictedCount };
  });
  const occurring = perClass.filter((m) => m.support > 0 || m.predicted > 0);
  const macroF1 = ratio(
    occurring.reduce((sum, m) => sum + m.f1, 0),
    occurring.length,
  );
  return { labels: [...labels], total: gold.length, correct, accuracy: ratio(correct, gold.length), macroF1, perClass, confusion };
}

/**
 * Metrics from gold labels and either predicted labels or score rows (one row of scores per
 * example, in label order: the label with the highest score is the prediction). A label outside
 * `labels` is a caller bug and throws.
 */
export function evaluateClassification(gold: readonly string[], predicted: readonly string[] | readonly ArrayLike<number>[], labels: readonly string[]): ClassificationMetrics {
  if (gold.length !== predicted.length) throw new RangeError(`${gold.length} gold labels but ${predicted.length} predictions`);
  const index = new Map(labels.map((l, i) => [l, i]));
  if (index.size !== labels.length) throw new Error('labels must be distinct');
  const toIndex = (label: string, what: string) => {
    const i = index.get(label);
    if (i === undefined) throw new RangeError(`${what} label ${JSON.stringify(label)} is not one of ${labels.map((l) => JSON.stringify(l)).join(', ')}`);
    return i;
  };
  const g = Int32Array.from(gold, (l) => toIndex(l, 'gold'));
  const p = Int32Array.from(predicted as readonly (string | ArrayLike<number>)[], (x) => {
    if (typeof x === 'string') return toIndex(x, 'predicted');
    if (x.length !== labels.length) throw new RangeError(`a score row has ${x.length} values for ${labels.length} labels`);
    return argmax(x);
  });
  return evaluateIndices(g, p, labels);
}

/** The metrics of one label (e.g. the positive, "harmful" class); throws if it is not in the evaluation. */
export function classMetrics(evaluation: ClassificationMetrics, label: string): ClassMetrics {
  const m = evaluation.perClass.find((c) => c.label === label);
  if (!m) throw new RangeError(`label ${JSON.stringify(label)} is not one of ${evaluation.labels.map((l) => JSON.stringify(l)).join(', ')}`);
  return m;
}

export interface F1Comparison {
  readonly label: string;
  readonly champion: number;
  readonly challenger: number;
  /** challenger − champion. */
  readonly delta: number;
  /** The challenger's F1 exceeds the champion's by more than `minImprovement`. */
  readonly challengerBetter: boolean;
}

/**
 * Champion against challenger by the F1 of the positive class, both evaluated on the same test
 * split (same examples in the same order: the totals and supports must agree).
 */
export function compareF1(champion: ClassificationMetrics, challenger: ClassificationMetrics, positiveLabel: string, minImprovement = 0): F1Comparison {
  if (champion.total !== challenger.total || classMetrics(champion, positiveLabel).support !== classMetrics(challenger, positiveLabel).support) {
    throw new Error('champion and challenger must be evaluated on the same test split');
  }
  const a = classMetrics(champion, positiveLabel).f1;
  const b = classMetrics(challenger, positiveLabel).f1;
  return { label: positiveLabel, champion: a, challenger: b, delta: b - a, challengerBetter: b - a > minImprovement };
}

/** Rules for what may be classified, and how a probability row becomes an answer. */
import type { RuleViolation } from './registry.js';

export interface TextLimits {
  readonly maxTexts: number;
  readonly maxTextLength: number;
}

/** The first problem with a `classify` call's texts, naming the text by its position. */
export function checkTexts(texts: readonly string[], limits: TextLimits): RuleViolation | undefined {
  if (texts.length === 0) return { field: 'texts', message: 'texts must hold at least one text.' };
  if (texts.length > limits.maxTexts) {
    return { field: 'texts', message: `${texts.length} texts in one call; the limit is ${limits.maxTexts}. Split the call, or submit a bulk inference job.` };
  }
  for (let i = 0; i < texts.length; i++) {
    const problem = checkText(texts[i]!, limits.maxTextLength);
    if (problem) return { field: `texts[${i}]`, message: `text ${i}: ${problem}` };
  }
  return undefined;
}

/** Why one text cannot be classified, or undefined. */
export function checkText(text: string, maxTextLength: number): string | undefined {
  if (text.trim().length === 0) return 'is empty; there is nothing to classify.';
  if (text.length > maxTextLength) return `is ${text.length} characters; the limit is ${maxTextLength}.`;
  return undefined;
}

export interface LabelScore {
  readonly label: string;
  readonly score: number;
}

export interface Classification {
  /** The most probable label (the first one on a tie). */
  readonly label: string;
  readonly score: number;
  /** Every label with its probability, in the model's label order. */
  readonly scores: LabelScore[];
}

/** Position of the largest value (the first one on a tie). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export function toClassification(probabilities: ArrayLike<number>, labels: readonly string[]): Classification {
  if (probabilities.length !== labels.length) {
    throw new Error(`the model gave ${probabilities.length} scores for ${labels.length} labels`);
  }
  const best = argmax(probabilities);
  const scores: LabelScore[] = Array.from(labels, (label, i) => ({ label, score: probabilities[i]! }));
  return { label: labels[best]!, score: probabilities[best]!, scores };
}

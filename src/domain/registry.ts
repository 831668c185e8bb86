/**
 * Registry rules, MLflow's model: versions are immutable, aliases are movable names that point
 * at a version. `champion` and `challenger` are the platform's conventions, not special cases.
 */
export const CHAMPION = 'champion';
export const CHALLENGER = 'challenger';

/** The task of models fed by the platform's featurizer; any other task is served by `predict` with raw tensors. */
export const TEXT_CLASSIFICATION = 'text-classification';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface RuleViolation {
  readonly field: string;
  readonly message: string;
}

export function checkModelName(name: string): RuleViolation | undefined {
  if (!NAME.test(name)) {
    return { field: 'name', message: 'name must be 1 to 64 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit.' };
  }
  return undefined;
}

export function checkAliasName(alias: string): RuleViolation | undefined {
  if (!NAME.test(alias) || /^\d+$/.test(alias)) {
    return {
      field: 'alias',
      message: 'alias must be 1 to 64 characters of a-z, 0-9, ".", "_" or "-", and not a bare number (numbers name versions).',
    };
  }
  return undefined;
}

/** A task is a free-form kebab-case word (`text-classification`, `time-series-forecast`, `image-classification`). */
export function checkTask(task: string): RuleViolation | undefined {
  if (!/^[a-z][a-z0-9-]{0,63}$/.test(task)) {
    return { field: 'task', message: 'task must be 1 to 64 characters of a-z, 0-9 and "-", e.g. text-classification or time-series-forecast.' };
  }
  return undefined;
}

export const MAX_LABELS = 100;

export function checkLabels(labels: readonly string[]): RuleViolation | undefined {
  if (labels.length < 2 || labels.length > MAX_LABELS) {
    return { field: 'labels', message: `a classifier needs 2 to ${MAX_LABELS} labels; got ${labels.length}.` };
  }
  const bad = labels.find((l) => l.trim() !== l || l.length === 0 || l.length > 64);
  if (bad !== undefined) return { field: 'labels', message: `label ${JSON.stringify(bad)} must be 1 to 64 characters without surrounding spaces.` };
  const seen = new Set<string>();
  for (const l of labels) {
    if (seen.has(l)) return { field: 'labels', message: `label ${JSON.stringify(l)} appears twice.` };
    seen.add(l);
  }
  return undefined;
}

/** A version may be removed only when no alias points at it. */
export function aliasesBlockingRemoval(version: number, aliases: readonly { name: string; version: number }[]): string[] {
  return aliases.filter((a) => a.version === version).map((a) => a.name);
}

/** What a training run does with a challenger that beats the champion (see Model.promotionPolicy). */
export const PROMOTION_POLICIES = ['AUTOMATIC', 'MANUAL'] as const;
export type PromotionPolicy = (typeof PROMOTION_POLICIES)[number];

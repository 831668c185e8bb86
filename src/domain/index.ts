export { JOB_STATUSES, canTransition, isTerminal, unreachable } from './job-status.js';
export type { JobStatus, TerminalJobStatus } from './job-status.js';
export { planReconciliation } from './reconcile.js';
export type { JobRowSnapshot, ReconcileAction, ReconcilePolicy } from './reconcile.js';
export { CHALLENGER, CHAMPION, TEXT_CLASSIFICATION, MAX_LABELS, aliasesBlockingRemoval, checkAliasName, checkLabels, checkModelName, checkTask } from './registry.js';
export type { RuleViolation } from './registry.js';
export * from './model/index.js';
export * from './inference.js';
export * from './auth/index.js';

export { JOB_STATUSES, canTransition, isTerminal, unreachable } from './job-status.js';
export type { JobStatus, TerminalJobStatus } from './job-status.js';
export { planReconciliation } from './reconcile.js';
export type { JobRowSnapshot, ReconcileAction, ReconcilePolicy } from './reconcile.js';

import type { EntityManager } from '@mikro-orm/postgresql';
import { planReconciliation, unreachable, type ReconcilePolicy } from '../domain/index.js';
import { Battle, InferenceJob, PingJob, TrainingRun, type JobRowRepository, type JobRow } from '../entities/index.js';
import type { JobPayloads, QueueName } from '../queue/index.js';
import type { ServiceDeps } from './context.js';
import type { InferenceJobService } from './inference/inference-job.service.js';
import type { PingService } from './ping.service.js';
import type { TrainingService } from './training/training.service.js';
import type { BattleService } from './battle/battle.service.js';

/** How the reconciler finds and re-dispatches the rows of one queue. One entry per queue. */
interface JobKind<Q extends QueueName> {
  readonly queue: Q;
  readonly repository: (em: EntityManager) => JobRowRepository<JobRow>;
  readonly payload: (id: string) => JobPayloads[Q];
  readonly publish: (em: EntityManager, id: string) => Promise<void>;
}

type JobKinds = { readonly [Q in QueueName]: JobKind<Q> };

export interface ReconcileReport {
  redispatched: number;
  requeued: number;
  failed: number;
}

/**
 * Repairs what a crash leaves behind: rows committed QUEUED whose enqueue never happened, and
 * rows RUNNING whose worker died. Safe to run in many processes at once.
 */
export class ReconcilerService {
  private readonly kinds: JobKinds;

  constructor(
    private readonly deps: ServiceDeps,
    ping: PingService,
    inferenceJobs: InferenceJobService,
    training: TrainingService,
    battles: BattleService,
  ) {
    this.kinds = {
      ping: {
        queue: 'ping',
        repository: (em) => em.getRepository(PingJob) as unknown as JobRowRepository<JobRow>,
        payload: (id) => ({ pingJobId: id }),
        publish: (em, id) => ping.publishCurrent(em, id),
      },
      inference: {
        queue: 'inference',
        repository: (em) => em.getRepository(InferenceJob) as unknown as JobRowRepository<JobRow>,
        payload: (id) => ({ inferenceJobId: id }),
        publish: (em, id) => inferenceJobs.publishCurrent(em, id),
      },
      training: {
        queue: 'training',
        repository: (em) => em.getRepository(TrainingRun) as unknown as JobRowRepository<JobRow>,
        payload: (id) => ({ trainingRunId: id }),
        publish: (em, id) => training.publishCurrent(em, id),
      },
      battle: {
        queue: 'battle',
        repository: (em) => em.getRepository(Battle) as unknown as JobRowRepository<JobRow>,
        payload: (id) => ({ battleId: id }),
        publish: (em, id) => battles.publishCurrent(em, id),
      },
    };
  }

  /** `queuedGraceMs` 0 re-dispatches every QUEUED row: right at start-up in embedded mode, where the queue is empty. */
  async reconcile(policy: Partial<ReconcilePolicy> = {}): Promise<ReconcileReport> {
    const full: ReconcilePolicy = {
      queuedGraceMs: policy.queuedGraceMs ?? this.deps.config.reconcileIntervalMs,
      staleAfterMs: policy.staleAfterMs ?? this.deps.config.jobStaleAfterMs,
      maxAttempts: policy.maxAttempts ?? this.deps.config.jobMaxAttempts,
    };
    const report: ReconcileReport = { redispatched: 0, requeued: 0, failed: 0 };
    for (const kind of Object.values(this.kinds) as JobKind<QueueName>[]) {
      await this.reconcileKind(kind, full, report);
    }
    if (report.redispatched + report.requeued + report.failed > 0) this.deps.log.info(report, 'reconciled job rows');
    return report;
  }

  private async reconcileKind(kind: JobKind<QueueName>, policy: ReconcilePolicy, report: ReconcileReport): Promise<void> {
    const em = this.deps.db.fork();
    const repo = kind.repository(em);
    const now = this.deps.now();
    const silentSince = new Date(now.getTime() - policy.staleAfterMs);
    const rows = await repo.findPossiblyOrphaned(new Date(now.getTime() - policy.queuedGraceMs), silentSince);
    for (const action of planReconciliation(rows, now, policy)) {
      switch (action.kind) {
        case 'redispatch':
          await this.deps.queue.redispatch(kind.queue, kind.payload(action.id), action.id);
          report.redispatched += 1;
          break;
        case 'requeue':
          if (await repo.requeueStale(action.id, silentSince, action.reason)) {
            await this.deps.queue.redispatch(kind.queue, kind.payload(action.id), action.id);
            await kind.publish(em, action.id);
            report.requeued += 1;
          }
          break;
        case 'fail':
          if (await repo.failStale(action.id, silentSince, action.reason)) {
            await kind.publish(em, action.id);
            report.failed += 1;
          }
          break;
        default:
          unreachable(action);
      }
    }
  }
}

import os from 'node:os';
import { WorkerProcess } from '../entities/index.js';
import type { Principal } from './auth/principals.js';
import { signedIn } from './authz.js';
import type { ServiceDeps } from './context.js';
import type { Device } from './training/devices.js';

export interface RunningJob {
  readonly queue: string;
  readonly jobId: string;
  readonly startedAt: string;
}

export interface WorkerView {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly devices: readonly Device[];
  readonly currentJobs: readonly RunningJob[];
  readonly startedAt: string;
  readonly lastHeartbeatAt: string;
  /** Heard from within three heartbeats. */
  readonly online: boolean;
}

/** How often a worker reports itself. */
export const WORKER_HEARTBEAT_MS = 5_000;
/** Rows of workers silent this long are removed (a killed process never says goodbye). */
const FORGET_AFTER_MS = 10 * 60 * 1000;

/**
 * Workers report who they are, what they consume, their devices and the jobs they run now, in a
 * row per process refreshed every few seconds; the `workers` query reads those rows, so any API
 * process sees every worker.
 */
export class WorkerRegistry {
  private readonly running = new Map<string, RunningJob>();
  private timer: NodeJS.Timeout | undefined;
  private registered: { queues: readonly string[]; concurrency: number; devices: readonly Device[]; startedAt: Date } | undefined;

  constructor(private readonly deps: ServiceDeps) {}

  /** Wraps a job so the registry knows it runs (and reports it at once). */
  track<T>(queue: string, jobId: string, work: () => Promise<T>): Promise<T> {
    const key = `${queue}:${jobId}`;
    this.running.set(key, { queue, jobId, startedAt: this.deps.now().toISOString() });
    void this.beat();
    return work().finally(() => {
      this.running.delete(key);
      void this.beat();
    });
  }

  async register(queues: readonly string[], concurrency: number, devices: readonly Device[]): Promise<void> {
    this.registered = { queues, concurrency, devices, startedAt: this.deps.now() };
    await this.beat();
    this.timer = setInterval(() => void this.beat(), WORKER_HEARTBEAT_MS);
    this.timer.unref();
  }

  async unregister(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (!this.registered) return;
    this.registered = undefined;
    await this.deps.db.fork().nativeDelete(WorkerProcess, { id: this.deps.workerId }).catch(() => {});
  }

  private async beat(): Promise<void> {
    const r = this.registered;
    if (!r) return;
    const now = this.deps.now();
    try {
      await this.deps.db.fork().upsert(
        WorkerProcess,
        {
          id: this.deps.workerId,
          host: os.hostname(),
          pid: process.pid,
          queues: [...r.queues],
          concurrency: r.concurrency,
          devices: r.devices as unknown as Record<string, unknown>[],
          currentJobs: [...this.running.values()] as unknown as Record<string, unknown>[],
          startedAt: r.startedAt,
          heartbeatAt: now,
        },
        { onConflictFields: ['id'], onConflictAction: 'merge' },
      );
    } catch (err) {
      this.deps.log.warn({ err }, 'worker heartbeat failed');
    }
  }

  /** Workers heard from in the last ten minutes, the most recently started first. */
  async list(actor: Principal | null): Promise<WorkerView[]> {
    signedIn(actor);
    const em = this.deps.db.fork();
    const now = this.deps.now().getTime();
    await em.nativeDelete(WorkerProcess, { heartbeatAt: { $lt: new Date(now - FORGET_AFTER_MS) } });
    const rows = await em.find(WorkerProcess, {}, { orderBy: { startedAt: 'desc' } });
    return rows.map((w) => ({
      id: w.id,
      host: w.host,
      pid: w.pid,
      queues: w.queues,
      concurrency: w.concurrency,
      devices: w.devices as unknown as Device[],
      currentJobs: w.currentJobs as unknown as RunningJob[],
      startedAt: w.startedAt.toISOString(),
      lastHeartbeatAt: w.heartbeatAt.toISOString(),
      online: now - w.heartbeatAt.getTime() < 3 * WORKER_HEARTBEAT_MS,
    }));
  }
}

import path from 'node:path';
import { FsArtifactStore } from '../storage/artifact-store.js';
import { sweepSpool } from '../storage/spool.js';
import { AuditLogService } from './audit-log.service.js';
import { AuthService, loadSigningKey } from './auth/auth.service.js';
import { PrincipalDirectory } from './auth/principals.js';
import { RateLimits } from './auth/rate-limits.js';
import { TokenSigner } from './auth/token-signer.js';
import { UserService } from './auth/user.service.js';
import type { ServiceDeps } from './context.js';
import { DatasetService } from './dataset/index.js';
import { AuditWriter } from './inference/audit-writer.js';
import { InferenceJobService } from './inference/inference-job.service.js';
import { InferenceService } from './inference/inference.service.js';
import { PingService } from './ping.service.js';
import { ReconcilerService } from './reconciler.service.js';
import { RegistryService } from './registry.service.js';
import { DeviceAllocator, detectDevices, type Device } from './training/devices.js';
import { configuredRunners } from './training/runners.js';
import { TrainingService } from './training/training.service.js';
import { WorkerRegistry } from './worker-registry.service.js';
import { BattleService } from './battle/index.js';
import { LlmParaphraser } from './battle/llm-paraphraser.js';
import { uploadDir } from './uploads.js';

export type { ServiceDeps } from './context.js';
export type { AuditEntryView, AuditFilter, MutationRecord } from './audit-log.service.js';
export type { LogoutInput, SessionTokens } from './auth/auth.service.js';
export { AUTH_TOPIC } from './auth/principals.js';
export type { AuthChange, Principal } from './auth/principals.js';
export type { ApiKeyView, CreateApiKeyInput, CreateUserInput, UpdateUserInput, UserView } from './auth/user.service.js';
export type { InferenceJobView, InferenceResultView, InferenceStatsView, SubmitInferenceJob } from './inference/inference-job.service.js';
export type { Caller, ClassifyResult, InferenceCounters, PredictResult, ServedVersion } from './inference/inference.service.js';
export { PING_LIMITS } from './ping.service.js';
export type { PingJobView, RequestPingInput } from './ping.service.js';
export type { ReconcileReport } from './reconciler.service.js';
export type { Device } from './training/devices.js';
export type { EvaluationView, MetricPointView, PromotionResult, StartTrainingRunInput, TrainingLogView, TrainingRunView } from './training/training.service.js';
export type { RunningJob, WorkerView } from './worker-registry.service.js';
export { DEFAULT_EVASION_THRESHOLD } from './battle/index.js';
export type { BattleRoundView, BattleRoundsEvent, BattleView, CreateBattleInput, StrategyStatsView } from './battle/index.js';
export { DATASET_FORMATS, SPAM_ASSASSIN_PACKAGE, importSpamAssassin } from './dataset/index.js';
export type {
  CreateDatasetInput,
  CreatedVersion,
  DatasetFormat,
  DatasetVersionView,
  DatasetView,
  DeriveDatasetVersionInput,
  ExampleView,
  ImportProgress,
  NewExample,
  SpamAssassinImport,
  UploadedDatasetVersion,
} from './dataset/index.js';
export type {
  AliasChangedEvent,
  CreateModelInput,
  ModelVersionView,
  ModelView,
  NewVersion,
  ResolvedVersion,
  UploadedVersion,
  VersionRef,
} from './registry.service.js';

export interface Services {
  readonly principals: PrincipalDirectory;
  readonly rateLimits: RateLimits;
  readonly auth: AuthService;
  readonly users: UserService;
  readonly auditLog: AuditLogService;
  readonly ping: PingService;
  readonly reconciler: ReconcilerService;
  readonly registry: RegistryService;
  readonly inference: InferenceService;
  readonly inferenceJobs: InferenceJobService;
  readonly datasets: DatasetService;
  readonly training: TrainingService;
  readonly battles: BattleService;
  readonly workers: WorkerRegistry;
  /** This process's CPU and GPUs, as workers report them. */
  readonly devices: readonly Device[];
  /** Housekeeping at start-up: removes upload spool files a crashed process left behind. */
  start(): Promise<void>;
  /** Stops background work (alias watches) and writes what is buffered (the audit log). */
  close(): Promise<void>;
}

/** An upload spooling for longer than this is abandoned (the inspection timeout is 60 s by default). */
const SPOOL_MAX_AGE_MS = 6 * 60 * 60 * 1000;

export function createServices(deps: ServiceDeps): Services {
  const signer = new TokenSigner(() => loadSigningKey(deps), deps.config.security, deps.now);
  const principals = new PrincipalDirectory(deps.db, deps.events, signer, deps.now);
  const rateLimits = new RateLimits(deps.config.security, deps.redis, deps.config.redisPrefix);
  const auditLog = new AuditLogService(deps);
  const ping = new PingService(deps, principals);
  const artifacts = new FsArtifactStore(path.join(deps.config.dataDir, 'artifacts'));
  const registry = new RegistryService(deps, artifacts, principals);
  const audit = new AuditWriter(deps.db, deps.log, { flushMs: deps.config.inference.auditFlushMs });
  const inference = new InferenceService(deps, registry, deps.resultCache, audit);
  const inferenceJobs = new InferenceJobService(deps, inference, artifacts, principals);
  const devices = detectDevices(deps.config.training.gpus);
  const training = new TrainingService(deps, registry, inference, principals, {
    allocator: new DeviceAllocator(devices),
    runners: configuredRunners(deps.config.training),
  });
  const datasets = new DatasetService(deps);
  const paraphraser = new LlmParaphraser(deps.config.llm, deps.log);
  const battles = new BattleService(deps, registry, inference, datasets, training, principals, paraphraser);
  return {
    principals,
    rateLimits,
    auth: new AuthService(deps, principals, rateLimits),
    users: new UserService(deps, principals),
    auditLog,
    ping,
    reconciler: new ReconcilerService(deps, ping, inferenceJobs, training, battles),
    registry,
    inference,
    inferenceJobs,
    datasets,
    training,
    battles,
    workers: new WorkerRegistry(deps),
    devices,
    start: async () => {
      await principals.start();
      const removed = await sweepSpool(uploadDir(deps.config), SPOOL_MAX_AGE_MS);
      if (removed > 0) deps.log.info({ removed }, 'removed upload files left by an interrupted upload');
    },
    close: async () => {
      paraphraser.close();
      await Promise.all([inference.close(), auditLog.close(), principals.close()]);
    },
  };
}

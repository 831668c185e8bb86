import { InferenceJob, InferenceResult } from './inference-job.entity.js';
import { InferenceLog } from './inference-log.entity.js';
import { JobRow } from './job-row.entity.js';
import { ModelAlias } from './model-alias.entity.js';
import { ModelVersion } from './model-version.entity.js';
import { Model } from './model.entity.js';
import { PingJob } from './ping-job.entity.js';
import { ApiKey } from './api-key.entity.js';
import { AppSecret } from './app-secret.entity.js';
import { AuditEntry } from './audit-entry.entity.js';
import { AuthSession, RefreshToken, SignInLink } from './auth-session.entity.js';
import { User } from './user.entity.js';

export { InferenceJob, InferenceResult } from './inference-job.entity.js';
export { INFERENCE_KINDS, InferenceLog } from './inference-log.entity.js';
export type { InferenceKind } from './inference-log.entity.js';
export { JobRow } from './job-row.entity.js';
export { JobRowRepository } from './job-row.repository.js';
export { ModelAlias } from './model-alias.entity.js';
export { ModelVersion, VERSION_SOURCES } from './model-version.entity.js';
export type { VersionSource } from './model-version.entity.js';
export { Model } from './model.entity.js';
export { ModelRepository } from './model.repository.js';
export { PingJob } from './ping-job.entity.js';
export { ApiKey } from './api-key.entity.js';
export { AppSecret } from './app-secret.entity.js';
export { AuditEntry } from './audit-entry.entity.js';
export { AuthSession, RefreshToken, SignInLink } from './auth-session.entity.js';
export { User } from './user.entity.js';
export { PingJobRepository } from './ping-job.repository.js';
export type { PageRequest } from './ping-job.repository.js';

/** Listed explicitly: folder discovery differs between compiled and TypeScript runs. */
export const ENTITIES = [JobRow, PingJob, Model, ModelVersion, ModelAlias, InferenceLog, InferenceJob, InferenceResult, User, AuthSession, RefreshToken, SignInLink, ApiKey, AuditEntry, AppSecret];

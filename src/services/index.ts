import type { ServiceDeps } from './context.js';
import { PingService } from './ping.service.js';
import { ReconcilerService } from './reconciler.service.js';
import { RegistryService } from './registry.service.js';
import { FsArtifactStore } from '../storage/artifact-store.js';
import path from 'node:path';

export type { ServiceDeps } from './context.js';
export { PING_LIMITS } from './ping.service.js';
export type { PingJobView, RequestPingInput } from './ping.service.js';
export type { ReconcileReport } from './reconciler.service.js';
export type { AliasChangedEvent, CreateModelInput, ModelVersionView, ModelView, NewVersion } from './registry.service.js';

export interface Services {
  readonly ping: PingService;
  readonly reconciler: ReconcilerService;
  readonly registry: RegistryService;
}

export function createServices(deps: ServiceDeps): Services {
  const ping = new PingService(deps);
  const artifacts = new FsArtifactStore(path.join(deps.config.dataDir, 'artifacts'));
  return { ping, reconciler: new ReconcilerService(deps, ping), registry: new RegistryService(deps, artifacts) };
}

import type { ServiceDeps } from './context.js';
import { PingService } from './ping.service.js';
import { ReconcilerService } from './reconciler.service.js';

export type { ServiceDeps } from './context.js';
export { PING_LIMITS } from './ping.service.js';
export type { PingJobView, RequestPingInput } from './ping.service.js';
export type { ReconcileReport } from './reconciler.service.js';

export interface Services {
  readonly ping: PingService;
  readonly reconciler: ReconcilerService;
}

export function createServices(deps: ServiceDeps): Services {
  const ping = new PingService(deps);
  return { ping, reconciler: new ReconcilerService(deps, ping) };
}

import type { JobHandlers } from '../queue/index.js';
import type { Services } from '../services/index.js';

/** The single handler per queue. Workers call services, never resolvers. */
export function createJobHandlers(services: Services): JobHandlers {
  return {
    ping: (payload, ctx) => services.ping.execute(payload.pingJobId, ctx),
    inference: (payload, ctx) => services.inferenceJobs.execute(payload.inferenceJobId, ctx),
    training: (payload, ctx) => services.training.execute(payload.trainingRunId, ctx),
    battle: (payload, ctx) => services.battles.execute(payload.battleId, ctx),
  };
}

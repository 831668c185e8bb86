import type { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { EventBus } from '../pubsub/index.js';
import type { ResultCache } from '../inference/result-cache.js';
import type { JobQueue } from '../queue/index.js';

/** What every use case may touch. Built once per process by the runtime. */
export interface ServiceDeps {
  readonly config: Config;
  readonly db: Database;
  readonly queue: JobQueue;
  readonly events: EventBus;
  readonly log: Logger;
  /** Classification results: Redis when configured, an in-process LRU otherwise. */
  readonly resultCache: ResultCache;
  /** The producer connection when Redis is configured (rate-limit counters live there). */
  readonly redis: Redis | undefined;
  /** Identifies this process in job rows (`host:pid:random`). */
  readonly workerId: string;
  readonly now: () => Date;
}

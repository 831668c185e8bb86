export { BullMqJobQueue } from './bullmq.queue.js';
export { InProcessJobQueue } from './in-process.queue.js';
export { JobHandedBackError, PermanentJobError, QUEUE_NAMES, isQueueName } from './jobs.js';
export type { JobContext, JobHandler, JobHandlers, JobPayloads, QueueName } from './jobs.js';
export type { ConsumeOptions, Consumer, JobQueue, QueueDepth } from './queue.port.js';

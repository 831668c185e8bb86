import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { deferred } from '../helpers/deferred.js';
import { InProcessJobQueue, JobHandedBackError, PermanentJobError, type JobContext, type JobHandlers } from '../../src/queue/index.js';

const log = pino({ level: 'silent' });

function handlers(fn: (id: string, ctx: JobContext) => Promise<void>): JobHandlers {
  return { ping: (payload, ctx) => fn(payload.pingJobId, ctx), inference: (payload, ctx) => fn(payload.inferenceJobId, ctx), training: (payload, ctx) => fn(payload.trainingRunId, ctx), battle: (payload, ctx) => fn(payload.battleId, ctx) };
}

describe('InProcessJobQueue', () => {
  it('runs each job id once while it is pending, and again after it finished', async () => {
    const queue = new InProcessJobQueue(log, { maxAttempts: 1, backoffMs: 1 });
    const runs: string[] = [];
    const gate = deferred();
    const bothRan = deferred();
    const ranAgain = deferred();
    const consumer = queue.consume(
      handlers(async (id) => {
        runs.push(id);
        if (runs.length === 2) bothRan.resolve();
        if (runs.length === 3) ranAgain.resolve();
        await gate.promise;
      }),
      { queues: ['ping'], concurrency: 1 },
    );
    await queue.enqueue('ping', { pingJobId: 'a' }, 'a');
    await queue.enqueue('ping', { pingJobId: 'a' }, 'a');
    await queue.enqueue('ping', { pingJobId: 'b' }, 'b');
    expect(await queue.depths()).toEqual([
      { queue: 'ping', waiting: 1, active: 1, delayed: 0, failed: 0 },
      { queue: 'inference', waiting: 0, active: 0, delayed: 0, failed: 0 },
      { queue: 'training', waiting: 0, active: 0, delayed: 0, failed: 0 },
      { queue: 'battle', waiting: 0, active: 0, delayed: 0, failed: 0 },
    ]);
    gate.resolve();
    await bothRan.promise;
    await queue.enqueue('ping', { pingJobId: 'a' }, 'a');
    await ranAgain.promise;
    await consumer.close(1000);
    expect(runs).toEqual(['a', 'b', 'a']);
  });

  it('retries a failing job with backoff, and gives up on a permanent error at once', async () => {
    const queue = new InProcessJobQueue(log, { maxAttempts: 3, backoffMs: 5 });
    const attempts: Record<string, number[]> = { flaky: [], broken: [] };
    const done = deferred();
    const consumer = queue.consume(
      handlers(async (id, ctx) => {
        attempts[id]!.push(ctx.attempt);
        if (id === 'broken') throw new PermanentJobError('bad input');
        if (ctx.attempt < 3) throw new Error('transient');
        done.resolve();
      }),
      { queues: ['ping'], concurrency: 2 },
    );
    await queue.enqueue('ping', { pingJobId: 'broken' }, 'broken');
    await queue.enqueue('ping', { pingJobId: 'flaky' }, 'flaky');
    await done.promise;
    expect(attempts).toEqual({ flaky: [1, 2, 3], broken: [1] });
    expect((await queue.depths())[0]).toMatchObject({ failed: 1, delayed: 0 });
    await consumer.close(1000);
  });

  it('on close, lets running jobs finish within the grace period', async () => {
    const queue = new InProcessJobQueue(log);
    let finished = false;
    const started = deferred();
    const consumer = queue.consume(
      handlers(async () => {
        started.resolve();
        await sleep(50);
        finished = true;
      }),
      { queues: ['ping'], concurrency: 1 },
    );
    await queue.enqueue('ping', { pingJobId: 'a' }, 'a');
    await started.promise;
    await consumer.close(5_000);
    expect(finished).toBe(true);
  });

  it('past the grace period, aborts running jobs so they hand back, and drops the ones not started', async () => {
    const queue = new InProcessJobQueue(log);
    const started = deferred();
    const seen: string[] = [];
    const consumer = queue.consume(
      handlers(async (id, ctx) => {
        seen.push(id);
        started.resolve();
        await sleep(60_000, undefined, { signal: ctx.signal }).catch(() => undefined);
        expect(ctx.signal.aborted).toBe(true);
        throw new JobHandedBackError('handed back');
      }),
      { queues: ['ping'], concurrency: 1 },
    );
    await queue.enqueue('ping', { pingJobId: 'a' }, 'a');
    await queue.enqueue('ping', { pingJobId: 'b' }, 'b');
    await started.promise;
    await consumer.close(20);
    expect(seen).toEqual(['a']);
    expect((await queue.depths())[0]).toMatchObject({ waiting: 0, active: 0, failed: 0 });
    await consumer.close(20); // idempotent
  });

  it('refuses to start without a handler for a queue it consumes', () => {
    const queue = new InProcessJobQueue(log);
    expect(() => queue.consume({} as JobHandlers, { queues: ['ping'], concurrency: 1 })).toThrow(/No job handler registered for queue\(s\): ping/);
  });
});

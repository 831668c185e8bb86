import { percentile } from '../lib/stats.js';

export interface LoopResult {
  readonly iterations: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** User plus system CPU time of this process (every thread, onnxruntime's included) over the loop. */
  readonly cpuMicros: number;
}

/**
 * Calls `step` back to back for `warmupS`, then for `seconds`, timing each call: the in-process
 * counterpart of lib/load.ts's fire(), for baselines that run in the bench process itself.
 */
export async function timeLoop(warmupS: number, seconds: number, step: (i: number) => unknown): Promise<LoopResult> {
  let i = 0;
  for (const end = performance.now() + warmupS * 1000; performance.now() < end; ) await step(i++);
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const end = started + seconds * 1000;
  for (let now = started; now < end; ) {
    await step(i++);
    const after = performance.now();
    latencies.push(after - now);
    now = after;
  }
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  return {
    iterations: latencies.length,
    seconds: wall,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpuMicros: cpu.user + cpu.system,
  };
}

import type { LoadResult } from './load.js';
import type { BenchOptions } from './options.js';

/** One measurement of one target. */
export interface Sample {
  readonly round: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU time over wall time: near 100 means the server, not the load generator, was the limit. */
  readonly cpuPercent: number;
  readonly cpuMicrosPerRequest: number;
}

/** A load run's figures with the server CPU it cost. */
export function sampleOf(round: number, result: LoadResult, serverCpuMicros: number): Sample {
  return {
    round,
    rps: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    cpuPercent: (100 * serverCpuMicros) / (result.seconds * 1e6),
    cpuMicrosPerRequest: serverCpuMicros / result.requests,
  };
}

/** Medians over the rounds, each figure taken separately. */
export interface TargetFigures extends Omit<Sample, 'round'> {
  readonly target: string;
  readonly info: string;
  readonly samples: readonly Sample[];
}

export interface Ratio {
  readonly label: string;
  readonly value: number;
  readonly target: number;
  /** A stretch goal printed beside the target; missing it is not a miss. */
  readonly aim?: number;
}

export interface BenchmarkReport {
  readonly id: string;
  readonly title: string;
  readonly targets: readonly TargetFigures[];
  readonly ratios: readonly Ratio[];
}

export interface Benchmark {
  readonly id: string;
  /** How long the load phases take with these options; run.ts bounds the whole run by it. */
  plannedSeconds(options: BenchOptions): number;
  run(options: BenchOptions, progress: (line: string) => void): Promise<BenchmarkReport>;
}

export interface BenchOptions {
  readonly warmupS: number;
  readonly durationS: number;
  readonly connections: number;
  readonly rounds: number;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}=${JSON.stringify(raw)}: must be a positive integer`);
  return value;
}

export function readOptions(env: NodeJS.ProcessEnv): BenchOptions {
  return {
    warmupS: positiveInt(env, 'BENCH_WARMUP_S', 2),
    durationS: positiveInt(env, 'BENCH_DURATION_S', 8),
    connections: positiveInt(env, 'BENCH_CONNECTIONS', 10),
    rounds: positiveInt(env, 'BENCH_ROUNDS', 2),
  };
}

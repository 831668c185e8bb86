/**
 * `npm run bench`: builds, then runs every benchmark against servers in child processes and
 * prints a table per benchmark; figures also go to .bench/results.json. Exits 1 only when a
 * server fails to start or answers wrongly; missed targets are information, not failures.
 *
 * Environment: BENCH_ONLY (every benchmark; or comma-separated ids), BENCH_DURATION_S (8), BENCH_WARMUP_S (2), BENCH_CONNECTIONS (10), BENCH_ROUNDS (2),
 * BENCH_FANOUT_SUBSCRIBERS (1000), BENCH_FANOUT_SECONDS (20), BENCH_FANOUT_ROUNDS (40000) for battle-fanout,
 * BENCH_LOOP_ROUNDS (2000) rounds per battle for battle-loop,
 * BENCH_LOG_LEVEL (info, the full stack's LOG_LEVEL); DATABASE_URL / REDIS_URL switch the full
 * stack to scaled mode (the inference servers then share that database and ARENA_REDIS_PREFIX:
 * give the run a scratch database and a prefix of its own). BENCH_FASTTEXT_DIR (.bench/fasttext): where
 * the inference-emails benchmark looks for node_modules/fasttext to compare with fastText's own
 * predict and training (see README: the directory needs its own package.json allowing fastText's build script; never a dependency here); skipped, and
 * said so, when it is not there.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { readOptions } from './lib/options.js';
import type { BenchmarkReport, Ratio } from './lib/report.js';
import { formatTable } from './lib/table.js';
import { inferenceBenchmarks } from './inference.js';
import { authOverhead, trivialQuery } from './trivial-query.js';
import { training } from './training.js';
import { datasetBenchmarks } from './datasets.js';
import { queueOverhead } from './queue.js';
import { trainingLoop } from './training-loop.js';
import { battleThroughput } from './battle.js';
import { battleFanout } from './battle-fanout.js';
import { battleLoop } from './battle-loop.js';

const ALL = [trivialQuery, authOverhead, ...inferenceBenchmarks, ...datasetBenchmarks, training, trainingLoop, battleThroughput, battleFanout, battleLoop, queueOverhead];
/** BENCH_ONLY=id,id runs a subset (ids as printed: trivial-query, inference-latency, …). */
const only = process.env['BENCH_ONLY']?.split(',').map((s) => s.trim()).filter(Boolean);
const BENCHMARKS = only ? ALL.filter((b) => only.includes(b.id)) : ALL;
if (only && BENCHMARKS.length !== only.length) {
  console.error(`BENCH_ONLY: unknown id among ${only.join(', ')}; known: ${ALL.map((b) => b.id).join(', ')}`);
  process.exit(2);
}
/** Server start-up (PGlite, migrations) and shutdown on top of the planned load phases. */
const OVERHEAD_S = 60;
const RESULTS = new URL('../.bench/results.json', import.meta.url);

// Turn signals into a normal exit so lib/child.ts's exit hook kills the servers.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1));

const options = readOptions(process.env);
const budgetS = OVERHEAD_S + BENCHMARKS.reduce((sum, b) => sum + b.plannedSeconds(options), 0);
setTimeout(() => {
  console.error(`bench: still running after ${budgetS} s; giving up.`);
  process.exit(1);
}, budgetS * 1000).unref();

const cpus = os.cpus();
const environment = {
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  cpus: cpus.length,
  cpuModel: cpus[0]?.model ?? 'unknown',
  loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
};
console.log(`node ${environment.node}, ${environment.platform}, ${environment.cpus} CPUs (${environment.cpuModel}), load ${environment.loadAverage.join(' ')}`);
console.log(
  `warm-up ${options.warmupS} s, measure ${options.durationS} s, ${options.connections} connections, ` +
    `${options.rounds} round(s), median; bounded at ${budgetS} s`,
);

const reports: BenchmarkReport[] = [];
try {
  for (const benchmark of BENCHMARKS) {
    const report = await benchmark.run(options, (line) => console.error(`  [${benchmark.id}] ${line}`));
    reports.push(report);
    print(report);
  }
} catch (error) {
  console.error(`\nbench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

await mkdir(new URL('.', RESULTS), { recursive: true });
await writeFile(RESULTS, `${JSON.stringify({ date: new Date().toISOString(), environment, options, benchmarks: reports }, null, 2)}\n`);
console.log(`\nresults written to ${RESULTS.pathname}`);
// A subset (BENCH_ONLY) may leave shared servers up that a later benchmark would have stopped:
// exiting kills them (lib/child.ts) instead of waiting on their IPC channels.
process.exit(0);

function print(report: BenchmarkReport): void {
  console.log(`\n${report.title}`);
  for (const t of report.targets) console.log(`  ${t.target}: ${t.info}`);
  console.log();
  const rows = report.targets.map((t) => [
    t.target,
    Math.round(t.rps).toString(),
    t.p50Ms.toFixed(2),
    t.p99Ms.toFixed(2),
    `${Math.round(t.cpuPercent)}%`,
    Math.round(t.cpuMicrosPerRequest).toString(),
  ]);
  console.log(formatTable(['target', 'req/s', 'p50 ms', 'p99 ms', 'server CPU', 'CPU µs/req'], rows));
  console.log('(server CPU well under 100%: the load generator, not that server, set the pace)\n');
  const width = Math.max(...report.ratios.map((r) => r.label.length));
  for (const ratio of report.ratios) console.log(`${ratio.label.padEnd(width)}  ${describe(ratio)}`);
}

function describe(ratio: Ratio): string {
  const aim = ratio.aim === undefined ? '' : `, aim ${ratio.aim.toFixed(2)}x${ratio.value >= ratio.aim ? ' (met)' : ''}`;
  return `${ratio.value.toFixed(2)}x  target >= ${ratio.target.toFixed(2)}x${aim}  ${ratio.value >= ratio.target ? 'PASS' : 'MISS'}`;
}

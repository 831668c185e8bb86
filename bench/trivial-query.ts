import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startServer, type ServerProcess } from './lib/child.js';
import { checkOnce, fire, type LoadRequest } from './lib/load.js';
import type { BenchOptions } from './lib/options.js';
import { sampleOf, type Benchmark, type Ratio, type Sample, type TargetFigures } from './lib/report.js';
import { median } from './lib/stats.js';
import { tempDir } from './lib/temp-dir.js';
import { EXPECTED_BODY, QUERY } from './servers/expected.js';

interface Target {
  readonly name: string;
  readonly entry: string;
  readonly startTimeoutMs: number;
  readonly env?: Record<string, string>;
}

const NODE_HTTP: Target = { name: 'node:http', entry: 'node-http.ts', startTimeoutMs: 20_000 };
const BARE_APOLLO: Target = { name: 'bare apollo', entry: 'bare-apollo.ts', startTimeoutMs: 20_000 };
// Opens PGlite and runs migrations before it listens.
const FULL_STACK: Target = { name: 'full stack', entry: 'full-stack.ts', startTimeoutMs: 60_000 };
const FULL_STACK_OPEN: Target = { ...FULL_STACK, name: 'full stack, no auth or limits', env: { BENCH_AUTH: 'off' } };

/**
 * `{ serverInfo { version } }` over HTTP against each target in its own process, in rounds that
 * rotate the order; the ratios compare the targets' median throughput.
 */
function comparison(spec: {
  id: string;
  title: string;
  targets: readonly Target[];
  ratios: (rps: (name: string) => number) => Ratio[];
}): Benchmark {
  const benchmark: Benchmark = {
    id: spec.id,
    plannedSeconds: (o) => o.rounds * spec.targets.length * (o.warmupS + o.durationS),
    async run(options, progress) {
      const dataDir = tempDir('arena-bench-');
      const servers: ServerProcess[] = [];
      try {
        for (const target of spec.targets) {
          const entry = new URL(`servers/${target.entry}`, import.meta.url);
          // Each full stack gets a data directory of its own: embedded PGlite belongs to one process.
          const env = { ...process.env, ...target.env, BENCH_DATA_DIR: path.join(dataDir, String(servers.length)) };
          mkdirSync(env.BENCH_DATA_DIR, { recursive: true });
          const server = await startServer(target.name, entry, env, target.startTimeoutMs);
          servers.push(server);
          progress(`started ${server.name}: ${server.info}`);
        }
        const requests: LoadRequest[] = servers.map((s) => ({ url: s.url, headers: s.headers, body: QUERY, expectBody: EXPECTED_BODY }));
        for (const request of requests) await checkOnce(request);

        const samples: Sample[][] = servers.map(() => []);
        for (let round = 1; round <= options.rounds; round++) {
          // Each round starts one target later, so a slow spell on the shared machine does not
          // always land on the same target.
          for (let k = 0; k < servers.length; k++) {
            const i = (round - 1 + k) % servers.length;
            const sample = await measure(servers[i]!, requests[i]!, options, round);
            samples[i]!.push(sample);
            progress(`round ${round}/${options.rounds} ${servers[i]!.name}: ${Math.round(sample.rps)} req/s, p50 ${sample.p50Ms.toFixed(2)} ms`);
          }
        }

        const targets = servers.map((s, i) => summarise(s, samples[i]!));
        return {
          id: spec.id,
          title: spec.title,
          targets,
          ratios: spec.ratios((name) => targets.find((t) => t.target === name)!.rps),
        };
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    },
  };
  return benchmark;
}

/** The fixed cost every request pays, with no database work, against raw node:http and bare Apollo. */
export const trivialQuery = comparison({
  id: 'trivial-query',
  title: 'Trivial query: POST /graphql {"query":"{ serverInfo { version } }"} (full stack signed in)',
  targets: [NODE_HTTP, BARE_APOLLO, FULL_STACK],
  ratios: (rps) => [
    { label: 'full stack / bare apollo', value: rps('full stack') / rps('bare apollo'), target: 0.9 },
    { label: 'full stack / node:http', value: rps('full stack') / rps('node:http'), target: 0.25, aim: 0.35 },
  ],
});

/**
 * What authentication (a bearer token verified and its session checked), the rate limiters and
 * the query limits cost together: the same full stack with and without them, same query.
 */
export const authOverhead = comparison({
  id: 'auth-overhead',
  title: 'Security overhead: the trivial query signed in (token, session, rate and query limits) vs. the full stack without any of them',
  targets: [FULL_STACK_OPEN, FULL_STACK],
  ratios: (rps) => [{ label: 'signed in / no auth or limits', value: rps('full stack') / rps('full stack, no auth or limits'), target: 0.9 }],
});

async function measure(server: ServerProcess, request: LoadRequest, options: BenchOptions, round: number): Promise<Sample> {
  await fire(request, options.warmupS, options.connections);
  const cpuBefore = await server.cpuMicros();
  const result = await fire(request, options.durationS, options.connections);
  return sampleOf(round, result, (await server.cpuMicros()) - cpuBefore);
}

function summarise(server: ServerProcess, samples: readonly Sample[]): TargetFigures {
  const mid = (pick: (s: Sample) => number) => median(samples.map(pick));
  return {
    target: server.name,
    info: server.info,
    rps: mid((s) => s.rps),
    p50Ms: mid((s) => s.p50Ms),
    p99Ms: mid((s) => s.p99Ms),
    cpuPercent: mid((s) => s.cpuPercent),
    cpuMicrosPerRequest: mid((s) => s.cpuMicrosPerRequest),
    samples,
  };
}

import { startServer, type ServerProcess } from './lib/child.js';
import { checkOnce, fire, type LoadRequest } from './lib/load.js';
import type { BenchOptions } from './lib/options.js';
import { sampleOf, type Benchmark, type Sample, type TargetFigures } from './lib/report.js';
import { median } from './lib/stats.js';
import { tempDir } from './lib/temp-dir.js';
import { EXPECTED_BODY, QUERY } from './servers/expected.js';

const TARGETS = [
  { name: 'node:http', entry: 'node-http.ts', startTimeoutMs: 20_000 },
  { name: 'bare apollo', entry: 'bare-apollo.ts', startTimeoutMs: 20_000 },
  // Opens PGlite and runs migrations before it listens.
  { name: 'full stack', entry: 'full-stack.ts', startTimeoutMs: 60_000 },
] as const;

type TargetName = (typeof TARGETS)[number]['name'];

/** `{ serverInfo { version } }` over HTTP: the fixed cost every request pays, with no database work. */
export const trivialQuery: Benchmark = {
  id: 'trivial-query',
  plannedSeconds: (o) => o.rounds * TARGETS.length * (o.warmupS + o.durationS),
  async run(options, progress) {
    const dataDir = tempDir('arena-bench-');
    const servers: ServerProcess[] = [];
    try {
      for (const target of TARGETS) {
        const entry = new URL(`servers/${target.entry}`, import.meta.url);
        const server = await startServer(target.name, entry, { ...process.env, BENCH_DATA_DIR: dataDir }, target.startTimeoutMs);
        servers.push(server);
        progress(`started ${server.name}: ${server.info}`);
      }
      const requests: LoadRequest[] = servers.map((s) => ({ url: s.url, body: QUERY, expectBody: EXPECTED_BODY }));
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
      const rps = (name: TargetName) => targets.find((t) => t.target === name)!.rps;
      return {
        id: trivialQuery.id,
        title: 'Trivial query: POST /graphql {"query":"{ serverInfo { version } }"}',
        targets,
        ratios: [
          { label: 'full stack / bare apollo', value: rps('full stack') / rps('bare apollo'), target: 0.9 },
          { label: 'full stack / node:http', value: rps('full stack') / rps('node:http'), target: 0.25, aim: 0.35 },
        ],
      };
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  },
};

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

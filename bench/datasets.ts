import { parse } from 'csv-parse';
import { createReadStream, openAsBlob } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { startApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { User, pgArray } from '../src/entities/index.js';
import { createLogger } from '../src/logger.js';
import { createArenaClient, CreateDatasetDocument, CreateDatasetVersionDocument } from '../src/sdk/index.js';
import type { BenchOptions } from './lib/options.js';
import type { Benchmark, BenchmarkReport, Ratio, Sample, TargetFigures } from './lib/report.js';
import { median } from './lib/stats.js';
import { tempDir } from './lib/temp-dir.js';

/*
 * Datasets, each figure beside a baseline measured in the same run on the same database:
 *   dataset-upload  createDatasetVersion over GraphQL multipart (spool, validate + report, insert)
 *                   of 100,000 short CSV rows, vs parsing the file alone and vs a bare multi-row
 *                   INSERT of the same rows through pg; also 3× the rows, to show peak memory does
 *                   not grow with the file
 *   dataset-export  GET …/export?format=csv|jsonl of that version, vs the bare keyset SELECTs
 * In-process (the platform is started in this process, as `arena start` would), embedded PGlite
 * unless DATABASE_URL names a server: then a scratch database is created and dropped.
 */

const ROWS = 100_000;
const BIG_FACTOR = 3;
const TARGET_ROWS_PER_S = 50_000;
const LABELS = ['ham', 'spam'];

const WORDS = ['free', 'money', 'meeting', 'tomorrow', 'click', 'now', 'report', 'lunch', 'offer', 'account', 'verify', 'prize', 'team', 'update'];

function csvFile(rows: number, seed: number): string {
  let s = 'text,label,source\n';
  let x = seed;
  for (let i = 0; i < rows; i++) {
    let text = '';
    for (let w = 0; w < 6; w++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      text += `${w ? ' ' : ''}${WORDS[x % WORDS.length]}`;
    }
    s += `${text} ${i},${LABELS[x & 1]},bench/${i}\n`;
  }
  return s;
}

/** Peak resident set growth while `work` runs, sampled every 5 ms. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ value: T; peakGrowthMiB: number; peakMiB: number; seconds: number; cpuMicros: number }> {
  global.gc?.();
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  const cpu = process.cpuUsage();
  const start = performance.now();
  try {
    const value = await work();
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakGrowthMiB: (peak - base) / 2 ** 20, peakMiB: peak / 2 ** 20, seconds, cpuMicros: used.user + used.system };
  } finally {
    clearInterval(timer);
  }
}

interface Run {
  readonly rows: number;
  readonly seconds: number;
  readonly cpuMicros: number;
  readonly peakGrowthMiB: number;
  /** The process's peak resident set while it ran. */
  readonly peakMiB?: number;
}

function figures(target: string, info: string, runs: readonly Run[]): TargetFigures {
  const samples: Sample[] = runs.map((r, round) => ({
    round,
    rps: r.rows / r.seconds,
    p50Ms: r.seconds * 1000,
    p99Ms: r.seconds * 1000,
    cpuPercent: (100 * r.cpuMicros) / (r.seconds * 1e6),
    cpuMicrosPerRequest: r.cpuMicros / r.rows,
  }));
  const med = (f: (s: Sample) => number) => median(samples.map(f));
  const rss = median(runs.map((r) => r.peakGrowthMiB));
  const peak = median(runs.map((r) => r.peakMiB ?? Number.NaN));
  return {
    target,
    info: `${info}; RSS +${rss.toFixed(0)} MiB during the pass, peak ${Number.isNaN(peak) ? '?' : peak.toFixed(0)} MiB (median of ${runs.length}); req/s below = rows/s, p50 = ms per pass, CPU µs/req = per row`,
    rps: med((s) => s.rps),
    p50Ms: med((s) => s.p50Ms),
    p99Ms: Math.max(...samples.map((s) => s.p99Ms)),
    cpuPercent: med((s) => s.cpuPercent),
    cpuMicrosPerRequest: med((s) => s.cpuMicrosPerRequest),
    samples,
  };
}

/** The platform in this process on a scratch database, an admin token, and cleanup. */
async function platform(progress: (line: string) => void) {
  const dataDir = tempDir('arena-bench-datasets-');
  const env: Record<string, string> = { ARENA_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'production', ARENA_RATE_LIMIT_USER_PER_MINUTE: '1000000' };
  let dropDatabase: (() => Promise<void>) | undefined;
  const serverUrl = process.env['DATABASE_URL'];
  if (serverUrl) {
    const url = new URL(serverUrl);
    const name = `${url.pathname.slice(1) || 'arena'}_bench_${process.pid}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
    await admin.end();
    url.pathname = `/${name}`;
    env['DATABASE_URL'] = url.toString();
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    };
  }
  if (process.env['REDIS_URL']) env['REDIS_URL'] = process.env['REDIS_URL'];
  const config = loadConfig(env);
  const app: App = await startApp(config, createLogger(config), { api: true, worker: undefined });
  const { services, db } = app.runtime;
  const email = 'bench-datasets@bench.example';
  await services.users.insert(db.fork(), { email, password: `bench ${Math.random()} password`, role: 'admin' });
  const session = await services.auth.openSession(db.fork(), await db.fork().findOneOrFail(User, { email }));
  const token = session.accessToken;
  progress(`platform up on ${serverUrl ? 'PostgreSQL (scratch database)' : 'embedded PGlite'}`);
  return {
    app,
    url: app.api!.url,
    token,
    dataDir,
    database: serverUrl ? 'PostgreSQL' : 'PGlite',
    client: createArenaClient({ url: app.api!.url, token }),
    close: async () => {
      await app.close();
      await dropDatabase?.();
    },
  };
}

type Platform = Awaited<ReturnType<typeof platform>>;

async function uploadOnce(p: Platform, dataset: string, file: string, rows: number): Promise<Run & { versionId: string; version: number }> {
  const blob = await openAsBlob(file);
  const r = await withPeakRss(() =>
    p.client.request(CreateDatasetVersionDocument, { input: { dataset, file: new File([blob], 'bench.csv'), splitRatio: 0.2 } }),
  );
  const v = r.value.createDatasetVersion.version;
  if (v.rowCount !== rows) throw new Error(`dataset-upload: expected ${rows} rows, the version has ${v.rowCount}`);
  return { rows, seconds: r.seconds, cpuMicros: r.cpuMicros, peakGrowthMiB: r.peakGrowthMiB, peakMiB: r.peakMiB, versionId: v.id, version: v.version };
}

async function parseOnly(file: string, rows: number): Promise<Run> {
  const r = await withPeakRss(async () => {
    let n = 0;
    await pipeline(
      createReadStream(file),
      parse({ columns: true }),
      new Writable({
        objectMode: true,
        write: (_record, _enc, done) => {
          n++;
          done();
        },
      }),
    );
    return n;
  });
  if (r.value !== rows) throw new Error(`parse-only: ${r.value} records, expected ${rows}`);
  return { rows, seconds: r.seconds, cpuMicros: r.cpuMicros, peakGrowthMiB: r.peakGrowthMiB };
}

/** The floor: the same rows as multi-row INSERTs (the platform's statement) into a table shaped and indexed like `example`. */
async function rawInsert(p: Platform, file: string, rows: number, round: number): Promise<Run> {
  const em = p.app.runtime.db.fork();
  const table = `bench_example_${round}`;
  await em.execute(`create table ${table} (like example including defaults including indexes)`);
  const records: string[][] = [];
  for await (const r of createReadStream(file).pipe(parse({ from_line: 2 })) as AsyncIterable<string[]>) records.push(r);
  const versionId = '00000000-0000-4000-8000-000000000000';
  try {
    const r = await withPeakRss(() =>
      em.transactional(async (tx) => {
        for (let i = 0; i < records.length; i += 5000) {
          const batch = records.slice(i, i + 5000);
          await tx.execute(
            `insert into ${table} (version_id, text, label, source, split, text_hash)
             select ?::uuid, t.* from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[]) as t`,
            [versionId, pgArray(batch.map((b) => b[0]!)), pgArray(batch.map((b) => b[1]!)), pgArray(batch.map((b) => b[2]!)), pgArray(batch.map(() => 'train')), pgArray(batch.map((_b, j) => String(i + j)))],
          );
        }
      }),
    );
    return { rows, seconds: r.seconds, cpuMicros: r.cpuMicros, peakGrowthMiB: r.peakGrowthMiB };
  } finally {
    await em.execute(`drop table ${table}`);
  }
}

async function exportOnce(p: Platform, versionUrl: string, rows: number, format: 'csv' | 'jsonl'): Promise<Run> {
  const r = await withPeakRss(async () => {
    const response = await fetch(`${p.url}${versionUrl}?format=${format}`, { headers: { authorization: `Bearer ${p.token}` } });
    if (response.status !== 200) throw new Error(`export answered ${response.status}: ${await response.text()}`);
    let newlines = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
    }
    return newlines;
  });
  const expected = format === 'csv' ? rows + 1 : rows;
  if (r.value !== expected) throw new Error(`export (${format}): ${r.value} lines, expected ${expected}`);
  return { rows, seconds: r.seconds, cpuMicros: r.cpuMicros, peakGrowthMiB: r.peakGrowthMiB };
}

/** The floor of an export: the same keyset pages, read and dropped. */
async function rawSelect(p: Platform, datasetName: string, version: number, rows: number): Promise<Run> {
  const em = p.app.runtime.db.fork();
  const view = await p.app.runtime.services.datasets.openExport(em, await p.app.runtime.services.principals.fromCredential(p.token), datasetName, version);
  const r = await withPeakRss(async () => {
    let n = 0;
    for await (const page of p.app.runtime.services.datasets.exportPages(em, view)) n += page.length;
    return n;
  });
  if (r.value !== rows) throw new Error(`raw select: ${r.value} rows, expected ${rows}`);
  return { rows, seconds: r.seconds, cpuMicros: r.cpuMicros, peakGrowthMiB: r.peakGrowthMiB };
}

interface Shared {
  platform: Platform;
  file: string;
  exportUrl?: string;
  version?: number;
}
let shared: Promise<Shared> | undefined;

async function setup(progress: (line: string) => void): Promise<Shared> {
  shared ??= (async () => {
    const p = await platform(progress);
    const file = path.join(p.dataDir, 'bench.csv');
    await writeFile(file, csvFile(ROWS, 1));
    await p.client.request(CreateDatasetDocument, { input: { name: 'bench', labels: LABELS } });
    return { platform: p, file };
  })();
  return shared;
}

async function teardown(): Promise<void> {
  const s = await shared;
  shared = undefined;
  await s?.platform.close();
}

const uploadBenchmark: Benchmark = {
  id: 'dataset-upload',
  plannedSeconds: (o: BenchOptions) => 30 + o.rounds * 25,
  async run(options, progress): Promise<BenchmarkReport> {
    try {
      return await measureUpload(options, progress);
    } finally {
      // The export reuses the platform and the version; alone, this benchmark closes it.
      const only = process.env['BENCH_ONLY']?.split(',').map((x) => x.trim());
      if (only && !only.includes('dataset-export')) await teardown();
    }
  },
};

async function measureUpload(options: BenchOptions, progress: (line: string) => void): Promise<BenchmarkReport> {
  {
    const s = await setup(progress);
    const p = s.platform;
    const uploads: Run[] = [];
    const parses: Run[] = [];
    const inserts: Run[] = [];
    for (let round = 0; round < options.rounds; round++) {
      parses.push(await parseOnly(s.file, ROWS));
      inserts.push(await rawInsert(p, s.file, ROWS, round));
      const up = await uploadOnce(p, 'bench', s.file, ROWS);
      uploads.push(up);
      s.exportUrl = `/datasets/bench/versions/${up.version}/export`;
      s.version = up.version;
      progress(`round ${round + 1}: upload ${Math.round(ROWS / up.seconds)} rows/s, raw insert ${Math.round(ROWS / inserts.at(-1)!.seconds)} rows/s, parse ${Math.round(ROWS / parses.at(-1)!.seconds)} rows/s`);
    }
    const bigFile = path.join(p.dataDir, 'bench-big.csv');
    await writeFile(bigFile, csvFile(ROWS * BIG_FACTOR, 2));
    const big = await uploadOnce(p, 'bench', bigFile, ROWS * BIG_FACTOR);
    progress(`${BIG_FACTOR}× rows: ${Math.round(big.rows / big.seconds)} rows/s, peak RSS ${big.peakMiB!.toFixed(0)} MiB (1×: ${uploads.map((u) => u.peakMiB!.toFixed(0)).join(', ')} MiB)`);
    const upload = figures('createDatasetVersion (GraphQL multipart)', `${ROWS} short CSV rows into ${p.database}, spool + validate + report + insert`, uploads);
    const bigFigures = figures(`createDatasetVersion, ${BIG_FACTOR}× the rows`, `${ROWS * BIG_FACTOR} rows, one run`, [big]);
    const parse = figures('csv-parse alone (baseline)', 'the same file, parsed and dropped', parses);
    const insert = figures('bare multi-row INSERT (baseline)', `the same rows, unnest batches of 5,000 through the ORM's connection into ${p.database}`, inserts);
    const uploadPeak = median(uploads.map((u) => u.peakMiB!));
    const ratios: Ratio[] = [
      { label: `upload rows/s vs the ${TARGET_ROWS_PER_S.toLocaleString('en')} rows/s goal`, value: upload.rps / TARGET_ROWS_PER_S, target: 1 },
      { label: 'upload vs bare INSERT of the same rows', value: upload.rps / insert.rps, target: 0.5 },
      { label: 'upload vs parsing the file alone', value: upload.rps / parse.rps, target: 0.1 },
      // Memory: the 3× file may take at most 1.5× the 1× file's peak resident set (it would take ~3× if rows were held).
      { label: `peak RSS, 1× rows / ${BIG_FACTOR}× rows`, value: uploadPeak / big.peakMiB!, target: 1 / 1.5 },
    ];
    return { id: 'dataset-upload', title: `Dataset upload: ${ROWS.toLocaleString('en')} short rows, ${p.database}`, targets: [upload, bigFigures, insert, parse], ratios };
  }
}

const exportBenchmark: Benchmark = {
  id: 'dataset-export',
  plannedSeconds: (o: BenchOptions) => 30 + o.rounds * 15,
  async run(options, progress): Promise<BenchmarkReport> {
    const s = await setup(progress);
    const p = s.platform;
    try {
      if (!s.exportUrl) {
        const up = await uploadOnce(p, 'bench', s.file, ROWS);
        s.exportUrl = `/datasets/bench/versions/${up.version}/export`;
        s.version = up.version;
      }
      const csv: Run[] = [];
      const jsonl: Run[] = [];
      const raw: Run[] = [];
      for (let round = 0; round < options.rounds; round++) {
        raw.push(await rawSelect(p, 'bench', s.version!, ROWS));
        csv.push(await exportOnce(p, s.exportUrl, ROWS, 'csv'));
        jsonl.push(await exportOnce(p, s.exportUrl, ROWS, 'jsonl'));
        progress(`round ${round + 1}: csv ${Math.round(ROWS / csv.at(-1)!.seconds)} rows/s, jsonl ${Math.round(ROWS / jsonl.at(-1)!.seconds)} rows/s, raw select ${Math.round(ROWS / raw.at(-1)!.seconds)} rows/s`);
      }
      const c = figures('export CSV over HTTP', `${ROWS} rows, streamed in keyset pages of 5,000`, csv);
      const j = figures('export JSON Lines over HTTP', `${ROWS} rows`, jsonl);
      const r = figures('keyset SELECTs alone (baseline)', 'the same pages, read and dropped', raw);
      return {
        id: 'dataset-export',
        title: `Dataset export: ${ROWS.toLocaleString('en')} rows, ${p.database}`,
        targets: [c, j, r],
        ratios: [
          { label: `CSV export rows/s vs the ${TARGET_ROWS_PER_S.toLocaleString('en')} rows/s goal`, value: c.rps / TARGET_ROWS_PER_S, target: 1 },
          { label: `JSONL export rows/s vs the ${TARGET_ROWS_PER_S.toLocaleString('en')} rows/s goal`, value: j.rps / TARGET_ROWS_PER_S, target: 1 },
          { label: 'CSV export vs the bare SELECTs', value: c.rps / r.rps, target: 0.5 },
        ],
      };
    } finally {
      await teardown();
    }
  },
};

/** Upload first (it leaves the version the export reads); either alone also works. */
export const datasetBenchmarks: readonly Benchmark[] = [uploadBenchmark, exportBenchmark];

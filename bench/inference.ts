import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { ServerProcess } from './lib/child.js';
import { checkOnce, checkVaried, fire, fireVaried, type LoadRequest, type LoadResult, type VariedRequest } from './lib/load.js';
import type { BenchOptions } from './lib/options.js';
import { sampleOf, type Benchmark, type Ratio, type Sample, type TargetFigures } from './lib/report.js';
import { median } from './lib/stats.js';
import { EXPECTED_BODY, QUERY } from './servers/expected.js';
import { awaitJob, bulkBody, classifyAnswered, classifyBody, clientFor, submitJob } from './inference/client.js';
import type { FeatureBatch } from '../src/domain/model/index.js';
import type { DomainModel } from './inference/dist.js';
import { loadFastText, toLine, type FastText } from './inference/fasttext.js';
import { InferenceFixture, MODEL_BUILD_S, SERVER_SETUP_S, type ModelServer } from './inference/fixture.js';
import { timeLoop } from './inference/in-process.js';
import { emailMessage, many, shortMessage, shortText, type Labeled, type Rng } from './inference/texts.js';

/*
 * Model serving, each figure beside a baseline measured in the same run:
 *   inference-latency   one short text per classify vs the trivial query, same server
 *   inference-batch     1,000 short texts per classify vs onnxruntime alone and featurize + run, in-process
 *   inference-emails    e-mails vs the featurizer alone, featurize + run, and fastText's own predict
 *   inference-microbatch  concurrent single-text classify with ARENA_MICROBATCH_WINDOW_MS off, 0 and 1
 *   inference-bulk-job  a 100,000-text submitInferenceJob, submit to SUCCEEDED, one worker
 * The servers and the model are shared between them (see inference/fixture.ts); the result cache
 * is off on every server, and texts differ between requests.
 */

const P50_TARGET_MS = 2;
const BATCH_TEXTS = 1000;
const BATCH_TARGET_TEXTS_PER_S = 20_000;
/** GraphQL classify may take at most this many times the bare onnxruntime run of the same batch. */
const OVERHEAD_TARGET = 1.5;
const EMAILS_PER_REQUEST = 50;
const EMAIL_CHARS = { min: 2000, max: 4000 } as const;
const MICROBATCH_CONNECTIONS = 32;
const BULK_TEXTS = 100_000;
const BULK_TARGET_TEXTS_PER_S = 10_000;
/** A bulk job that has not finished by then is reported as a failure of the run. */
const BULK_TIMEOUT_S = 120;
/** Writing the training file and training a fastText model on one thread. */
const FASTTEXT_TRAIN_S = 30;
/** Generating texts and request bodies, featurizing the in-process batches, checking each target once. */
const PREP_S = 10;
/** Distinct request bodies cycled through by the batch loads (the cache is off, so repeats are real work). */
const BODY_POOL = 32;

/**
 * Where the optional `fasttext` npm package may be installed (never a dependency of this
 * repository): BENCH_FASTTEXT_DIR, or .bench/fasttext (ignored by git).
 */
const FASTTEXT_DIR = path.resolve(process.env.BENCH_FASTTEXT_DIR || fileURLToPath(new URL('../.bench/fasttext', import.meta.url)));

/** A row of a report: TargetFigures plus the texts each request carried and what that makes per second. */
interface InferenceFigures extends TargetFigures {
  readonly textsPerRequest: number;
  readonly textsPerSecond: number;
  /** Median of the samples' busyAfterS, for server phases. */
  readonly busyAfterS?: number;
}

interface Phase {
  readonly target: string;
  readonly textsPerRequest: number;
  measure(options: BenchOptions, round: number): Promise<InferenceSample>;
}

/** A sample, and for load on a server how long it stayed busy once the load stopped. */
interface InferenceSample extends Sample {
  /** Seconds the server kept a core busy after the load (writing its audit backlog), up to SETTLE_MAX_S. */
  readonly busyAfterS?: number;
}

/** A server using less than this share of a core is taken as idle again. */
const IDLE_CPU_SHARE = 0.15;
const SETTLE_PROBE_MS = 250;
const SETTLE_MAX_S = 30;
/** Planned per measured server phase for settle(); phases that leave no backlog take one probe. */
const SETTLE_ALLOWANCE_S = 5;

/**
 * Waits until the server is idle again and says how long that took: work a request defers (the
 * inference audit log is written in batches off the response path) must not land on the next
 * phase, least of all on an in-process baseline sharing the machine's cores.
 */
async function settle(server: ServerProcess): Promise<number> {
  const started = performance.now();
  let before = await server.cpuMicros();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_PROBE_MS));
    const now = await server.cpuMicros();
    const share = (now - before) / (SETTLE_PROBE_MS * 1000);
    before = now;
    const elapsedS = (performance.now() - started) / 1000;
    if (share < IDLE_CPU_SHARE || elapsedS >= SETTLE_MAX_S) return elapsedS - SETTLE_PROBE_MS / 1000;
  }
}

/** Load on a server: a warm-up run, then a measured one with the server's CPU time around it, then settle(). */
function serverPhase(target: string, textsPerRequest: number, server: ServerProcess, load: (seconds: number) => Promise<LoadResult>): Phase {
  return {
    target,
    textsPerRequest,
    async measure(options, round) {
      await load(options.warmupS);
      const cpuBefore = await server.cpuMicros();
      const result = await load(options.durationS);
      const sample = sampleOf(round, result, (await server.cpuMicros()) - cpuBefore);
      return { ...sample, busyAfterS: await settle(server) };
    },
  };
}

/** A loop in the bench process itself; "server CPU" is then this process's CPU time. */
function localPhase(target: string, textsPerRequest: number, step: (i: number) => unknown): Phase {
  return {
    target,
    textsPerRequest,
    async measure(options, round) {
      const r = await timeLoop(options.warmupS, options.durationS, step);
      return {
        round,
        rps: r.iterations / r.seconds,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        cpuPercent: (100 * r.cpuMicros) / (r.seconds * 1e6),
        cpuMicrosPerRequest: r.cpuMicros / r.iterations,
      };
    },
  };
}

/**
 * Every phase once per round; each round starts one phase later, so a slow spell on the shared
 * machine does not always land on the same one (as trivial-query.ts does).
 */
async function runRounds(phases: readonly Phase[], options: BenchOptions, progress: (line: string) => void): Promise<InferenceSample[][]> {
  const samples: InferenceSample[][] = phases.map(() => []);
  for (let round = 1; round <= options.rounds; round++) {
    for (let k = 0; k < phases.length; k++) {
      const i = (round - 1 + k) % phases.length;
      const phase = phases[i]!;
      const sample = await phase.measure(options, round);
      samples[i]!.push(sample);
      const texts = phase.textsPerRequest > 1 ? `, ${Math.round(sample.rps * phase.textsPerRequest)} texts/s` : '';
      const busy = sample.busyAfterS !== undefined && sample.busyAfterS > 0.5 ? `; server busy ${sample.busyAfterS.toFixed(1)} s after the load` : '';
      progress(`round ${round}/${options.rounds} ${phase.target}: ${Math.round(sample.rps)} req/s${texts}, p50 ${sample.p50Ms.toFixed(2)} ms${busy}`);
    }
  }
  return samples;
}

function summarise(target: string, info: string, textsPerRequest: number, samples: readonly InferenceSample[]): InferenceFigures {
  const mid = (pick: (s: InferenceSample) => number) => median(samples.map(pick));
  const rps = mid((s) => s.rps);
  const busy = samples.map((s) => s.busyAfterS).filter((b): b is number => b !== undefined);
  return {
    target,
    info,
    rps,
    p50Ms: mid((s) => s.p50Ms),
    p99Ms: mid((s) => s.p99Ms),
    cpuPercent: mid((s) => s.cpuPercent),
    cpuMicrosPerRequest: mid((s) => s.cpuMicrosPerRequest),
    textsPerRequest,
    textsPerSecond: rps * textsPerRequest,
    ...(busy.length > 0 ? { busyAfterS: median(busy) } : {}),
    samples,
  };
}

/** What a server phase left behind, for its info line. */
function backlog(f: InferenceFigures, options: BenchOptions): string {
  if (f.busyAfterS === undefined || f.busyAfterS <= 0.5) return '';
  return `; the server then stayed busy ${f.busyAfterS.toFixed(1)} s (deferred work, the audit log), ${fmt((f.textsPerSecond * options.durationS) / (options.durationS + f.busyAfterS))} texts/s counting it`;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const avgChars = (texts: readonly string[]) => Math.round(mean(texts.map((t) => t.length)));

/** Fed as onnxruntime takes it, exactly as src/inference/onnx-session.ts feeds it. */
function runOnnx(m: DomainModel, session: ort.InferenceSession, batch: FeatureBatch) {
  const dims = [batch.batch, batch.length];
  return session.run({
    [m.ONNX_INPUT_IDS]: new ort.Tensor('int64', batch.ids, dims),
    [m.ONNX_INPUT_WEIGHTS]: new ort.Tensor('float32', batch.weights, dims),
  });
}

async function checkOnnx(m: DomainModel, session: ort.InferenceSession, texts: readonly string[]): Promise<void> {
  const out = (await runOnnx(m, session, m.featurizeBatch(texts, m.DEFAULT_FEATURIZER_SPEC)))[m.ONNX_OUTPUT];
  if (!out || out.dims[0] !== texts.length || out.dims[1] !== 2) throw new Error(`in-process onnxruntime returned ${out ? `[${out.dims.join(', ')}]` : 'nothing'}`);
}

let fixture: InferenceFixture | undefined;
const shared = () => (fixture ??= new InferenceFixture());

/** The main server with its model, the domain code and a seeded generator. */
async function setUp(seed: number, progress: (line: string) => void): Promise<{ m: DomainModel; main: ModelServer; rng: Rng }> {
  const f = shared();
  const m = await f.domain();
  return { m, main: await f.server('main', progress), rng: m.mulberry32(seed) };
}

/** 1. One short text per classify, a new one each time, against the trivial query on the same server. */
const latency: Benchmark = {
  id: 'inference-latency',
  plannedSeconds: (o) => MODEL_BUILD_S + SERVER_SETUP_S + PREP_S + o.rounds * 4 * (o.warmupS + o.durationS + SETTLE_ALLOWANCE_S),
  async run(options, progress) {
    const { main, rng } = await setUp(11, progress);
    const sent: number[] = [];
    const single: VariedRequest = {
      url: main.process.url, headers: main.process.headers,
      body: () => {
        const text = shortText(rng);
        if (sent.length < 10_000) sent.push(text.length);
        return classifyBody(main.model, [text]);
      },
      verify: (body) => classifyAnswered(body, 1),
    };
    const trivial: LoadRequest = { url: main.process.url, headers: main.process.headers, body: QUERY, expectBody: EXPECTED_BODY };
    await checkVaried(single);
    await checkOnce(trivial);

    const c = options.connections;
    const phases = [
      serverPhase('classify 1 text, 1 conn', 1, main.process, (s) => fireVaried(single, s, 1)),
      serverPhase('trivial query, 1 conn', 1, main.process, (s) => fire(trivial, s, 1)),
      serverPhase(`classify 1 text, ${c} conns`, 1, main.process, (s) => fireVaried(single, s, c)),
      serverPhase(`trivial query, ${c} conns`, 1, main.process, (s) => fire(trivial, s, c)),
    ];
    const samples = await runRounds(phases, options, progress);
    const classifyInfo = `Classify (the SDK's operation), one new short text per request (${Math.round(mean(sent))} chars on average), ${main.process.info}`;
    const targets = phases.map((p, i) => {
      const figures = summarise(p.target, '', 1, samples[i]!);
      return { ...figures, info: (p.target.startsWith('classify') ? classifyInfo : '{ serverInfo { version } } on the same server') + backlog(figures, options) };
    });
    const [one, trivialOne, atC, trivialAtC] = targets as [InferenceFigures, InferenceFigures, InferenceFigures, InferenceFigures];
    return {
      id: latency.id,
      title: `Inference, one short text: classify p50 (target <= ${P50_TARGET_MS} ms) against the trivial query, full stack`,
      targets,
      ratios: [
        {
          label: `trivial p50 / classify p50, 1 conn (target: classify p50 <= ${P50_TARGET_MS} ms)`,
          value: trivialOne.p50Ms / one.p50Ms,
          target: trivialOne.p50Ms / P50_TARGET_MS,
        },
        { label: `classify / trivial req/s, ${c} conns`, value: atC.rps / trivialAtC.rps, target: 0.5 },
      ],
    };
  },
};

/** 2. 1,000 short texts per classify against onnxruntime alone on the same, pre-featurized batches, and featurize + run. */
const batch: Benchmark = {
  id: 'inference-batch',
  plannedSeconds: (o) => PREP_S + o.rounds * (3 * (o.warmupS + o.durationS) + SETTLE_ALLOWANCE_S),
  async run(options, progress) {
    const { m, main, rng } = await setUp(21, progress);
    const spec = m.DEFAULT_FEATURIZER_SPEC;
    const session = await shared().ortSession();
    const batches = Array.from({ length: BODY_POOL }, () => many(BATCH_TEXTS, () => shortText(rng)));
    const bodies = batches.map((texts) => classifyBody(main.model, texts));
    const featurized = batches.map((texts) => m.featurizeBatch(texts, spec));
    let next = 0;
    const request: VariedRequest = { url: main.process.url, headers: main.process.headers, body: () => bodies[next++ % BODY_POOL]!, verify: (b) => classifyAnswered(b, BATCH_TEXTS) };
    await checkVaried(request);
    await checkOnnx(m, session, batches[0]!);

    const phases = [
      serverPhase('classify 1,000 texts, GraphQL', BATCH_TEXTS, main.process, (s) => fireVaried(request, s, 1)),
      localPhase('onnxruntime run, pre-featurized', BATCH_TEXTS, (i) => runOnnx(m, session, featurized[i % BODY_POOL]!)),
      localPhase('featurize + run, in-process', BATCH_TEXTS, (i) => runOnnx(m, session, m.featurizeBatch(batches[i % BODY_POOL]!, spec))),
    ];
    const samples = await runRounds(phases, options, progress);
    const all = batches.flat();
    const [graphql, bare, local] = phases.map((p, i) => summarise(p.target, '', BATCH_TEXTS, samples[i]!)) as [InferenceFigures, InferenceFigures, InferenceFigures];
    const width = featurized.map((f) => f.length);
    const targets = [
      {
        ...graphql,
        info:
          `${fmt(graphql.textsPerSecond)} texts/s (target >= ${fmt(BATCH_TARGET_TEXTS_PER_S)}), 1 connection, ${BATCH_TEXTS} texts of ${avgChars(all)} chars on average; ` +
          `${(bare.rps / graphql.rps).toFixed(2)}x the time of the bare run (target <= ${OVERHEAD_TARGET}x), ${(local.rps / graphql.rps).toFixed(2)}x featurize + run; ` +
          `${fmt((BATCH_TEXTS * 1e6) / graphql.cpuMicrosPerRequest)} texts per server CPU second${backlog(graphql, options)}`,
      },
      {
        ...bare,
        info: `${fmt(bare.textsPerSecond)} texts/s: ort.InferenceSession.create(model, { intraOpNumThreads: 1 }) in the bench process, batches [${BATCH_TEXTS}, ${Math.min(...width)}..${Math.max(...width)}] featurized beforehand`,
      },
      { ...local, info: `${fmt(local.textsPerSecond)} texts/s: featurizeBatch (dist/) then the same run, in the bench process` },
    ];
    return {
      id: batch.id,
      title: `Inference, ${fmt(BATCH_TEXTS)} short texts per classify: GraphQL against onnxruntime in-process (req/s and CPU are per ${fmt(BATCH_TEXTS)}-text batch)`,
      targets,
      ratios: [
        { label: `bare run time / classify time (target: classify <= ${OVERHEAD_TARGET}x)`, value: graphql.rps / bare.rps, target: 1 / OVERHEAD_TARGET },
        { label: 'featurize + run time / classify time', value: graphql.rps / local.rps, target: 1 / OVERHEAD_TARGET },
        { label: `classify texts/s / ${fmt(BATCH_TARGET_TEXTS_PER_S)}`, value: graphql.textsPerSecond / BATCH_TARGET_TEXTS_PER_S, target: 1 },
      ],
    };
  },
};

/** 3. Multi-paragraph e-mails: classify against the featurizer alone, featurize + run, and fastText's own predict. */
const emails: Benchmark = {
  id: 'inference-emails',
  plannedSeconds: (o) => PREP_S + FASTTEXT_TRAIN_S + o.rounds * (4 * (o.warmupS + o.durationS) + SETTLE_ALLOWANCE_S),
  async run(options, progress) {
    const { m, main, rng } = await setUp(31, progress);
    const spec = m.DEFAULT_FEATURIZER_SPEC;
    const session = await shared().ortSession();
    const batches = Array.from({ length: BODY_POOL }, () => many(EMAILS_PER_REQUEST, () => emailMessage(rng, EMAIL_CHARS.min, EMAIL_CHARS.max).text));
    const bodies = batches.map((texts) => classifyBody(main.model, texts));
    let next = 0;
    const request: VariedRequest = { url: main.process.url, headers: main.process.headers, body: () => bodies[next++ % BODY_POOL]!, verify: (b) => classifyAnswered(b, EMAILS_PER_REQUEST) };
    await checkVaried(request);
    await checkOnnx(m, session, batches[0]!);

    const training: Labeled[] = [];
    for (let i = 0; i < 4000; i++) training.push(shortMessage(rng));
    for (let i = 0; i < 1000; i++) training.push(emailMessage(rng, EMAIL_CHARS.min, EMAIL_CHARS.max));
    const started = performance.now();
    const loaded = await loadFastText(FASTTEXT_DIR, training, shared().scratch());
    let fastText: FastText | undefined;
    if ('fastText' in loaded) {
      fastText = loaded.fastText;
      progress(`trained a fastText model in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } else {
      progress(`fastText not measured: ${loaded.unavailable}`);
    }
    const lines = batches.map((texts) => texts.map(toLine));

    const phases = [
      serverPhase(`classify ${EMAILS_PER_REQUEST} e-mails, GraphQL`, EMAILS_PER_REQUEST, main.process, (s) => fireVaried(request, s, 1)),
      localPhase('featurize only, in-process', EMAILS_PER_REQUEST, (i) => m.featurizeBatch(batches[i % BODY_POOL]!, spec)),
      localPhase('featurize + run, in-process', EMAILS_PER_REQUEST, (i) => runOnnx(m, session, m.featurizeBatch(batches[i % BODY_POOL]!, spec))),
      ...(fastText
        ? [
            localPhase('fastText predict, in-process', EMAILS_PER_REQUEST, async (i) => {
              for (const line of lines[i % BODY_POOL]!) await fastText.predict(line);
            }),
          ]
        : []),
    ];
    const samples = await runRounds(phases, options, progress);
    const figures = phases.map((p, i) => summarise(p.target, '', EMAILS_PER_REQUEST, samples[i]!));
    const [graphql, featurizeOnly, local, ft] = figures as [InferenceFigures, InferenceFigures, InferenceFigures, InferenceFigures | undefined];
    const all = batches.flat();
    const perCpuSecond = (f: InferenceFigures) => fmt((EMAILS_PER_REQUEST * 1e6) / f.cpuMicrosPerRequest);
    const targets: InferenceFigures[] = [
      {
        ...graphql,
        info:
          `${fmt(graphql.textsPerSecond)} texts/s, 1 connection, ${EMAILS_PER_REQUEST} e-mails of ${fmt(avgChars(all))} chars on average ` +
          `(${fmt(EMAIL_CHARS.min)}-${fmt(EMAIL_CHARS.max)}, all under the featurizer's maxChars ${spec.maxChars}), ${fmt(bodies[0]!.length / 1024)} KiB per request; ` +
          `${perCpuSecond(graphql)} texts per server CPU second${backlog(graphql, options)}` +
          (fastText ? '' : `; fastText not measured: ${'unavailable' in loaded ? loaded.unavailable : ''}`),
      },
      { ...featurizeOnly, info: `${fmt(featurizeOnly.textsPerSecond)} texts/s: featurizeBatch (dist/) alone, ${perCpuSecond(featurizeOnly)} texts per CPU second` },
      { ...local, info: `${fmt(local.textsPerSecond)} texts/s: featurizeBatch then onnxruntime (1 intra-op thread), ${perCpuSecond(local)} texts per CPU second` },
      ...(ft
        ? [
            {
              ...ft,
              info:
                `${fmt(ft.textsPerSecond)} texts/s, ${perCpuSecond(ft)} texts per CPU second: ${fastText!.info} ` +
                `(newlines made spaces: fastText reads one line; each call hops to libuv's thread pool)`,
            },
          ]
        : []),
    ];
    const ratios: Ratio[] = [
      { label: 'featurize + run time / classify time (e-mails)', value: graphql.rps / local.rps, target: 1 / OVERHEAD_TARGET },
      ...(ft ? [{ label: 'fastText predict time / classify time (e-mails)', value: graphql.rps / ft.rps, target: 1 }] : []),
    ];
    return {
      id: emails.id,
      title: `Inference, ${EMAILS_PER_REQUEST} e-mails per classify against the featurizer, featurize + run${fastText ? ' and fastText' : ''} (req/s and CPU per ${EMAILS_PER_REQUEST}-text request)`,
      targets,
      ratios,
    };
  },
};

/**
 * 4. Concurrent single-text classify at 32 connections, ARENA_MICROBATCH_WINDOW_MS off, 0 (the
 * calls of one event-loop turn, the default) and 1: three fresh, identical server processes but
 * for the window.
 */
const microbatch: Benchmark = {
  id: 'inference-microbatch',
  plannedSeconds: (o) => 3 * SERVER_SETUP_S + o.rounds * 3 * (o.warmupS + o.durationS + SETTLE_ALLOWANCE_S),
  async run(options, progress) {
    const f = shared();
    const rng = (await f.domain()).mulberry32(41);
    // Nothing after this needs the main server: stopped, its timers and audit writes cannot disturb the three compared.
    await f.stop(['main']);
    try {
      const servers = [
        { window: 'off', server: await f.server('batchoff', progress) },
        { window: '0 ms', server: await f.server('batch0', progress) },
        { window: '1 ms', server: await f.server('batch1', progress) },
      ];
      const phases = [];
      for (const { window, server } of servers) {
        const request: VariedRequest = {
          url: server.process.url, headers: server.process.headers,
          body: () => classifyBody(server.model, [shortText(rng)]),
          verify: (body) => classifyAnswered(body, 1),
        };
        await checkVaried(request);
        phases.push(serverPhase(`window ${window}, ${MICROBATCH_CONNECTIONS} conns`, 1, server.process, (s) => fireVaried(request, s, MICROBATCH_CONNECTIONS)));
      }
      const samples = await runRounds(phases, options, progress);
      const targets = phases.map((p, i) => {
        const figures = summarise(p.target, '', 1, samples[i]!);
        const { window, server } = servers[i]!;
        return { ...figures, info: `ARENA_MICROBATCH_WINDOW_MS=${window.split(' ')[0]}, one new short text per classify, ${server.process.info}${backlog(figures, options)}` };
      });
      const [off, w0, w1] = targets as [InferenceFigures, InferenceFigures, InferenceFigures];
      const best = [...targets].sort((a, b) => b.rps - a.rps)[0]!;
      return {
        id: microbatch.id,
        title: `Inference, micro-batching: single-text classify from ${MICROBATCH_CONNECTIONS} connections, off / window 0 (one event-loop turn) / 1 ms (most req/s: ${best.target.split(',')[0]})`,
        targets,
        ratios: [
          { label: 'window 0 / off req/s', value: w0.rps / off.rps, target: 1 },
          { label: 'window 1 ms / off req/s', value: w1.rps / off.rps, target: 1 },
          { label: 'off p99 / window 0 p99', value: off.p99Ms / w0.p99Ms, target: 1 },
          { label: 'off p99 / window 1 ms p99', value: off.p99Ms / w1.p99Ms, target: 1 },
        ],
      };
    } finally {
      await f.stop(['batchoff', 'batch0', 'batch1']);
    }
  },
};

interface JobRun {
  readonly sample: Sample;
  readonly submitMs: number;
  readonly throughput: number;
  readonly runSeconds: number;
}

/** 5. A 100,000-text bulk job submitted inline, timed from submit to SUCCEEDED, with one inference worker. */
const bulkJob: Benchmark = {
  id: 'inference-bulk-job',
  plannedSeconds: (o) => SERVER_SETUP_S + o.rounds * (PREP_S + BULK_TIMEOUT_S),
  async run(options, progress) {
    const f = shared();
    try {
      const m = await f.domain();
      const bulk = await f.server('bulk', progress);
      const runs: JobRun[] = [];
      let chars = 0;
      for (let round = 1; round <= options.rounds; round++) {
        const rng = m.mulberry32(50 + round);
        const texts = many(BULK_TEXTS, () => shortText(rng));
        chars = avgChars(texts);
        // Serialized before the clock starts: the client's cost is not the platform's.
        const body = bulkBody(bulk.model, texts);
        const client = clientFor(bulk.process.url, bulk.process.headers);
        try {
          const cpuBefore = await bulk.process.cpuMicros();
          const started = performance.now();
          const submitted = await submitJob(bulk.process.url, body, bulk.process.headers);
          const submitMs = performance.now() - started;
          const done = await awaitJob(client, submitted.id, BULK_TIMEOUT_S * 1000);
          const seconds = (performance.now() - started) / 1000;
          const cpuMicros = (await bulk.process.cpuMicros()) - cpuBefore;
          if (done.status !== 'SUCCEEDED' || done.processed !== BULK_TEXTS || done.failed !== 0) {
            throw new Error(`bulk job ${done.id} ended ${done.status}, ${done.processed}/${done.total} processed, ${done.failed} failed: ${done.error ?? ''}`);
          }
          const runSeconds = done.startedAt && done.finishedAt ? (Date.parse(done.finishedAt) - Date.parse(done.startedAt)) / 1000 : Number.NaN;
          const run: JobRun = {
            sample: {
              round,
              rps: BULK_TEXTS / seconds,
              p50Ms: seconds * 1000,
              p99Ms: seconds * 1000,
              cpuPercent: (100 * cpuMicros) / (seconds * 1e6),
              cpuMicrosPerRequest: cpuMicros / BULK_TEXTS,
            },
            submitMs,
            throughput: done.throughput ?? Number.NaN,
            runSeconds,
          };
          runs.push(run);
          progress(
            `round ${round}/${options.rounds} bulk job: ${fmt(run.sample.rps)} texts/s end to end (${seconds.toFixed(1)} s, submit ${fmt(submitMs)} ms), ` +
              `job throughput ${fmt(run.throughput)} texts/s over ${runSeconds.toFixed(1)} s`,
          );
        } finally {
          await client.close();
        }
      }
      const figures = summarise(
        `bulk job, ${fmt(BULK_TEXTS)} texts`,
        '',
        1,
        runs.map((r) => r.sample),
      );
      const throughput = median(runs.map((r) => r.throughput));
      const target: InferenceFigures = {
        ...figures,
        info:
          `req/s is texts/s from submit to SUCCEEDED (p50/p99: that time in ms; CPU µs per text): ${fmt(figures.rps)} texts/s (target >= ${fmt(BULK_TARGET_TEXTS_PER_S)}); ` +
          `the job's own throughput ${fmt(throughput)} texts/s over ${median(runs.map((r) => r.runSeconds)).toFixed(1)} s of running; ` +
          `submit (${fmt(BULK_TEXTS)} inline texts of ${chars} chars on average, ${fmt((BULK_TEXTS * (chars + 3)) / 1024 / 1024)} MiB) answered in ${fmt(median(runs.map((r) => r.submitMs)))} ms; ` +
          bulk.process.info,
      };
      return {
        id: bulkJob.id,
        title: `Inference, bulk job: ${fmt(BULK_TEXTS)} short texts via submitInferenceJob, submit to SUCCEEDED (${os.cpus().length} CPUs shared by server and bench)`,
        targets: [target],
        ratios: [
          { label: `end-to-end texts/s / ${fmt(BULK_TARGET_TEXTS_PER_S)}`, value: figures.rps / BULK_TARGET_TEXTS_PER_S, target: 1 },
          { label: `job throughput field / ${fmt(BULK_TARGET_TEXTS_PER_S)}`, value: throughput / BULK_TARGET_TEXTS_PER_S, target: 1 },
        ],
      };
    } finally {
      // The last inference benchmark: nothing needs the shared servers any more.
      await f.stop();
    }
  },
};

/** In this order: the last one stops the servers the others share. */
export const inferenceBenchmarks: readonly Benchmark[] = [latency, batch, emails, microbatch, bulkJob];

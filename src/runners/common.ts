/**
 * What the runner processes share: protocol output, reading the config, reading the JSON Lines
 * data files into packed features. Runners import the domain and Node built-ins only (no ORM,
 * GraphQL, queues or entities: eslint.config.js enforces it), so any machine with Node and this
 * package's dist/ can run them.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import {
  featurize,
  PackedExamplesBuilder,
  type FeaturizerSpec,
  type PackedExamples,
} from '../domain/model/index.js';
import {
  formatRunnerLine,
  parseRunnerConfig,
  RUNNER_EXIT_PERMANENT,
  type RunnerConfig,
  type RunnerMessage,
} from '../domain/training/index.js';

export function say(message: RunnerMessage): void {
  process.stdout.write(formatRunnerLine(message));
}

export const log = (level: 'info' | 'warn' | 'error', message: string) => say({ type: 'log', level, message });

/** A failure of the run with its exit code: permanent ones (bad config or data) exit 3. */
export class RunnerFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'RunnerFailure';
  }
}

/** Exit code of a run stopped by SIGTERM (128 + 15, as a shell reports it): retryable. */
export const EXIT_TERMINATED = 143;
/** Exit code of an unexpected failure: retryable. */
export const EXIT_FAILED = 1;

/**
 * Runs a runner's main: a RunnerFailure or any other error becomes an `error` line and the
 * protocol's exit code. Sets process.exitCode rather than exiting, so stdout drains.
 */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const permanent = error instanceof RunnerFailure && error.permanent;
      const message = error instanceof Error ? (error instanceof RunnerFailure ? error.message : `${error.name}: ${error.message}`) : String(error);
      say({ type: 'error', message, permanent });
      if (!(error instanceof RunnerFailure)) process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = permanent ? RUNNER_EXIT_PERMANENT : EXIT_FAILED;
    },
  );
}

/** The config file named by the last argument, validated; every problem is a permanent failure. */
export async function readConfig(argv: readonly string[]): Promise<RunnerConfig> {
  if (argv.length < 3) throw new RunnerFailure('usage: <runner> [options…] <config.json> (the config file is the last argument)', true);
  const file = argv.at(-1)!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new RunnerFailure(`cannot read the config file ${file}: ${(error as Error).message}`, true);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RunnerFailure(`the config file ${file} is not JSON: ${(error as Error).message}`, true);
  }
  const parsed = parseRunnerConfig(json);
  if (!parsed.ok) throw new RunnerFailure(`invalid config ${file}: ${parsed.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, true);
  return parsed.config;
}

/** Bad lines named in a data failure; the rest are counted. */
const PROBLEMS_SHOWN = 10;

export interface SplitData {
  readonly packed: PackedExamples;
  /** Examples per label as found in the file, labels outside the set included (they are not packed). */
  readonly counts: Record<string, number>;
  /** Lines that are not {"text": string, "label": string}. */
  readonly badLines: number;
}

/**
 * Streams a JSON Lines file of {"text", "label"} objects, featurizing each example as it is read
 * (the texts are never all in memory). Blank lines are skipped; malformed lines and labels outside
 * the set fail the run permanently, naming the first few. `shouldStop` is checked between lines.
 */
export async function readSplit(
  file: string,
  split: string,
  labels: readonly string[],
  spec: FeaturizerSpec,
  shouldStop: () => boolean,
): Promise<SplitData | 'stopped'> {
  const builder = new PackedExamplesBuilder(labels);
  const known = new Set(labels);
  const counts: Record<string, number> = Object.fromEntries(labels.map((l) => [l, 0]));
  const problems: string[] = [];
  let badLines = 0;
  let unknownLabels = 0;
  let lineNo = 0;
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new RunnerFailure(`cannot read the ${split} file ${file}: ${(error as Error).message}`, true);
  }
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      lineNo++;
      if (shouldStop()) return 'stopped';
      if (line.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        row = undefined;
      }
      const text = (row as { text?: unknown } | undefined)?.text;
      const label = (row as { label?: unknown } | undefined)?.label;
      if (typeof row !== 'object' || row === null || typeof text !== 'string' || typeof label !== 'string') {
        badLines++;
        if (problems.length < PROBLEMS_SHOWN) problems.push(`line ${lineNo}: not a JSON object with string fields "text" and "label"`);
        continue;
      }
      counts[label] = (counts[label] ?? 0) + 1;
      if (!known.has(label)) {
        unknownLabels++;
        if (problems.length < PROBLEMS_SHOWN) problems.push(`line ${lineNo}: label ${JSON.stringify(label.slice(0, 100))} is not one of ${labels.map((l) => JSON.stringify(l)).join(', ')}`);
        continue;
      }
      builder.add(featurize(text, spec), label);
    }
  } catch (error) {
    throw new RunnerFailure(`reading the ${split} file ${file} failed at line ${lineNo}: ${(error as Error).message}`, false);
  } finally {
    lines.close();
    stream.destroy();
  }
  const bad = badLines + unknownLabels;
  if (bad > 0) {
    throw new RunnerFailure(
      `the ${split} file ${file} has ${bad} unusable line(s): ${problems.join('; ')}${bad > problems.length ? `; … and ${bad - problems.length} more` : ''}`,
      true,
    );
  }
  return { packed: builder.build(), counts, badLines };
}

/** Lets the event loop run (signal handlers, stdout) between chunks of synchronous work. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Makes SIGTERM (and SIGINT) set a flag the work polls; a second signal, or 5 s without exiting, exits at once. */
export function onTermination(): () => boolean {
  let requested = false;
  const handler = (signal: NodeJS.Signals) => {
    if (requested) process.exit(EXIT_TERMINATED);
    requested = true;
    log('warn', `${signal} received: stopping`);
    setTimeout(() => process.exit(EXIT_TERMINATED), 5000).unref();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => requested;
}

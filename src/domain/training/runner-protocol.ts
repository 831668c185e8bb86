/**
 * The runner protocol (version 1): how the platform runs a trainer it does not link against —
 * the built-in one in its own process, a PyTorch script on a GPU machine, anything else.
 *
 *  - A runner is a command; the path of a JSON config file (RunnerConfig) is its LAST argument.
 *  - It writes one JSON object per line on stdout (RunnerMessage): log, progress, metric,
 *    artifact, error. Anything else on stdout is counted and reported as garbage, never fatal;
 *    stderr is free-form and only its tail is kept.
 *  - Artifacts are written inside `workDir` and named by an `artifact` line (path relative to
 *    workDir, or absolute inside it).
 *  - Exit code 0 = success (an artifact line must have been printed), 3 = permanent failure (bad
 *    config or data: retrying cannot help), anything else, a signal included, = retryable.
 *  - SIGTERM asks it to stop: it should exit promptly, non-zero.
 *
 * Unknown keys in a line are ignored, so a runner may add fields without a protocol bump.
 */
import path from 'node:path';
import { z } from 'zod';
import { FeaturizerSpecError, parseFeaturizerSpec, type FeaturizerSpec } from '../model/featurizer-spec.js';

export const RUNNER_PROTOCOL_VERSION = 1;
export const RUNNER_EXIT_SUCCESS = 0;
export const RUNNER_EXIT_PERMANENT = 3;
/** Longest line parseRunnerLine accepts, in UTF-16 code units; a runner should stay far below. */
export const MAX_RUNNER_LINE_LENGTH = 64 * 1024;
/** formatRunnerLine cuts log and error messages to this many characters, so a line always fits. */
export const MAX_RUNNER_MESSAGE_LENGTH = 16 * 1024;

export type DeviceKind = 'cpu' | 'cuda';

export interface RunnerConfig {
  readonly protocol: 1;
  readonly runId: string;
  /** Absolute; the runner writes its artifacts (and any scratch files) here. */
  readonly workDir: string;
  readonly data: {
    /** Absolute paths of JSON Lines files, one {"text", "label"} object per line. */
    readonly train: string;
    readonly test: string;
    /** Evaluated after every epoch when given (val_* metrics). */
    readonly validation?: string;
    /** Class names, in the model's output order. */
    readonly labels: readonly string[];
    /** The harmful class whose F1 decides champion against challenger, when the model has one. */
    readonly positiveLabel?: string;
  };
  readonly featurizer: FeaturizerSpec;
  /** Each runner validates its own (the built-in trainer's are TrainingHyperparameters). */
  readonly hyperparameters: Readonly<Record<string, unknown>>;
  /** The device the runner may use; with CUDA, CUDA_VISIBLE_DEVICES is set to it, so index 0 is that device. */
  readonly device: { readonly kind: DeviceKind; readonly index: number | null };
}

export interface ConfigProblem {
  readonly field: string;
  readonly message: string;
}

export type ConfigParse = { readonly ok: true; readonly config: RunnerConfig } | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

const absolutePath = z
  .string()
  .min(1)
  .refine((p) => path.isAbsolute(p), { message: 'must be an absolute path' });

const configSchema = z
  .object({
    protocol: z.literal(RUNNER_PROTOCOL_VERSION, { message: `must be ${RUNNER_PROTOCOL_VERSION} (the protocol version this runner speaks)` }),
    runId: z.string().min(1).max(200),
    workDir: absolutePath,
    data: z.object({
      train: absolutePath,
      test: absolutePath,
      validation: absolutePath.optional(),
      labels: z
        .array(z.string().min(1).max(200))
        .min(2, { message: 'a classifier needs at least two labels' })
        .max(1000)
        .refine((l) => new Set(l).size === l.length, { message: 'labels must be distinct' }),
      positiveLabel: z.string().optional(),
    }),
    featurizer: z.unknown(),
    hyperparameters: z.record(z.string(), z.unknown()).default({}),
    device: z.object({
      kind: z.enum(['cpu', 'cuda']),
      index: z.number().int().min(0).nullable(),
    }),
  })
  .refine((c) => c.data.positiveLabel === undefined || c.data.labels.includes(c.data.positiveLabel), {
    message: 'must be one of data.labels',
    path: ['data', 'positiveLabel'],
  });

/** Validates a config file's parsed JSON, listing every problem (a bad config is a permanent failure). */
export function parseRunnerConfig(json: unknown): ConfigParse {
  const result = configSchema.safeParse(json);
  const problems: ConfigProblem[] = result.success
    ? []
    : result.error.issues.map((issue) => ({ field: issue.path.length > 0 ? issue.path.join('.') : '(config)', message: issue.message }));
  let featurizer: FeaturizerSpec | undefined;
  const raw = typeof json === 'object' && json !== null ? (json as { featurizer?: unknown }).featurizer : undefined;
  try {
    featurizer = parseFeaturizerSpec(raw);
  } catch (error) {
    if (!(error instanceof FeaturizerSpecError)) throw error;
    for (const p of error.problems) {
      const at = p.indexOf(': ');
      const where = at > 0 ? p.slice(0, at) : '(spec)';
      problems.push({ field: where === '(spec)' ? 'featurizer' : `featurizer.${where}`, message: at > 0 ? p.slice(at + 2) : p });
    }
  }
  if (!result.success || featurizer === undefined || problems.length > 0) return { ok: false, problems };
  const c = result.data;
  return {
    ok: true,
    config: {
      protocol: RUNNER_PROTOCOL_VERSION,
      runId: c.runId,
      workDir: c.workDir,
      data: {
        train: c.data.train,
        test: c.data.test,
        ...(c.data.validation === undefined ? {} : { validation: c.data.validation }),
        labels: [...c.data.labels],
        ...(c.data.positiveLabel === undefined ? {} : { positiveLabel: c.data.positiveLabel }),
      },
      featurizer,
      hyperparameters: c.hyperparameters,
      device: { kind: c.device.kind, index: c.device.index },
    },
  };
}

export type LogLevel = 'info' | 'warn' | 'error';

export type RunnerMessage =
  | { readonly type: 'log'; readonly level: LogLevel; readonly message: string }
  | { readonly type: 'progress'; readonly fraction: number; readonly epoch?: number; readonly step?: number }
  | {
      readonly type: 'metric';
      readonly name: string;
      readonly value: number;
      readonly step?: number;
      readonly epoch?: number;
      /** `step`: over the last few steps; `epoch`: over a whole epoch; absent: a one-off figure (e.g. test_f1). */
      readonly scope?: 'step' | 'epoch';
    }
  | { readonly type: 'artifact'; readonly path: string; readonly format: 'onnx'; readonly metrics?: Readonly<Record<string, number>> }
  | { readonly type: 'error'; readonly message: string; readonly permanent: boolean };

export type RunnerLineParse = { readonly ok: true; readonly message: RunnerMessage } | { readonly ok: false; readonly problem: string };

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const finite = z.number().finite();
const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_.:/-]{0,99}$/;

const messageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  z.object({ type: z.literal('progress'), fraction: z.number().min(0).max(1), epoch: count.optional(), step: count.optional() }),
  z.object({
    type: z.literal('metric'),
    name: z.string().regex(METRIC_NAME, { message: 'must be 1 to 100 letters, digits or _ . : / - starting with a letter' }),
    value: finite,
    step: count.optional(),
    epoch: count.optional(),
    scope: z.enum(['step', 'epoch']).optional(),
  }),
  z.object({
    type: z.literal('artifact'),
    path: z.string().min(1).max(4096),
    format: z.literal('onnx'),
    metrics: z
      .record(z.string().regex(METRIC_NAME), finite)
      .refine((m) => Object.keys(m).length <= 100, { message: 'at most 100 metrics' })
      .optional(),
  }),
  z.object({ type: z.literal('error'), message: z.string(), permanent: z.boolean() }),
]);

/**
 * One stdout line of a runner. Never throws: whatever a runner prints (a stray `print`, a
 * half-written line, megabytes of garbage) comes back as { ok: false, problem } for the worker
 * to count and report.
 */
export function parseRunnerLine(line: string): RunnerLineParse {
  if (typeof line !== 'string') return { ok: false, problem: 'not a string' };
  if (line.length > MAX_RUNNER_LINE_LENGTH) return { ok: false, problem: `line of ${line.length} characters; the limit is ${MAX_RUNNER_LINE_LENGTH}` };
  const text = line.trim();
  if (text === '') return { ok: false, problem: 'empty line' };
  if (text[0] !== '{') return { ok: false, problem: 'not a JSON object' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not valid JSON' };
  }
  const result = messageSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : 'type';
    const type = (json as { type?: unknown }).type;
    return { ok: false, problem: `${typeof type === 'string' ? `${type.slice(0, 40)} message` : 'message'}: ${where}: ${issue.message}` };
  }
  const m = result.data;
  // Rebuilt field by field: the message holds exactly the protocol's fields, nothing a runner added.
  switch (m.type) {
    case 'log':
      return { ok: true, message: { type: 'log', level: m.level, message: m.message } };
    case 'progress':
      return { ok: true, message: { type: 'progress', fraction: m.fraction, ...opt('epoch', m.epoch), ...opt('step', m.step) } };
    case 'metric':
      return { ok: true, message: { type: 'metric', name: m.name, value: m.value, ...opt('step', m.step), ...opt('epoch', m.epoch), ...opt('scope', m.scope) } };
    case 'artifact':
      return { ok: true, message: { type: 'artifact', path: m.path, format: 'onnx', ...(m.metrics === undefined ? {} : { metrics: { ...m.metrics } }) } };
    case 'error':
      return { ok: true, message: { type: 'error', message: m.message, permanent: m.permanent } };
  }
}

const opt = <K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [k in K]: V }));

const cut = (s: string) => (s.length > MAX_RUNNER_MESSAGE_LENGTH ? `${s.slice(0, MAX_RUNNER_MESSAGE_LENGTH)}… (${s.length - MAX_RUNNER_MESSAGE_LENGTH} more characters)` : s);

/** A message as one protocol line, newline included; long log and error texts are cut so it always parses. */
export function formatRunnerLine(message: RunnerMessage): string {
  const m = message.type === 'log' || message.type === 'error' ? { ...message, message: cut(message.message) } : message;
  return `${JSON.stringify(m)}\n`;
}

export type RunnerOutcome = 'succeeded' | 'permanent-failure' | 'retryable-failure';

/** What an exit means: 0 succeeded, 3 failed for good, anything else (a signal too) may succeed on a retry. */
export function classifyRunnerExit(code: number | null): RunnerOutcome {
  if (code === RUNNER_EXIT_SUCCESS) return 'succeeded';
  if (code === RUNNER_EXIT_PERMANENT) return 'permanent-failure';
  return 'retryable-failure';
}

/**
 * The absolute path of an artifact a runner named, or why it is refused: it must lie inside
 * workDir (relative paths are taken from workDir). Purely lexical: symbolic links are the
 * caller's to resolve.
 */
export function resolveArtifactPath(workDir: string, artifactPath: string): { ok: true; path: string } | { ok: false; problem: string } {
  if (artifactPath.includes('\0')) return { ok: false, problem: 'the artifact path contains a NUL character' };
  const file = path.resolve(workDir, artifactPath);
  const rel = path.relative(workDir, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    return { ok: false, problem: `the artifact ${JSON.stringify(artifactPath)} is not inside the work directory ${workDir}` };
  }
  return { ok: true, path: file };
}

/** Alias of MAX_RUNNER_LINE_LENGTH. */
export const MAX_RUNNER_LINE = MAX_RUNNER_LINE_LENGTH;
/** Alias of RunnerLineParse. */
export type ParsedRunnerLine = RunnerLineParse;

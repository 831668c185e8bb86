import path from 'node:path';
import { z } from 'zod';

/** Thrown when the environment does not describe a valid configuration; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const NODE_ENVS = ['development', 'production', 'test'] as const;

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

const positiveInt = (fallback: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().default(fallback));

const nonNegativeInt = (fallback: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(fallback));

const url = (protocols: readonly string[]) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine(
        (value) => {
          try {
            return protocols.includes(new URL(value).protocol);
          } catch {
            return false;
          }
        },
        { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
      )
      .optional(),
  );

/** Every variable the platform reads, with its default. The README's configuration table mirrors this. */
const envSchema = z.object({
  PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(4000)),
  HOST: z.preprocess(emptyAsUndefined, z.string().min(1).default('127.0.0.1')),
  ARENA_DATA_DIR: z.preprocess(emptyAsUndefined, z.string().min(1).default('./.arena')),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  REDIS_URL: url(['redis:', 'rediss:']),
  ARENA_REDIS_PREFIX: z.preprocess(emptyAsUndefined, z.string().min(1).max(64).default('arena')),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(LOG_LEVELS).default('info')),
  NODE_ENV: z.preprocess(emptyAsUndefined, z.enum(NODE_ENVS).default('development')),
  ARENA_BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  ARENA_WS_INIT_TIMEOUT_MS: positiveInt(3000),
  ARENA_SHUTDOWN_GRACE_MS: positiveInt(10_000),
  ARENA_RECONCILE_INTERVAL_MS: positiveInt(15_000),
  ARENA_JOB_STALE_AFTER_MS: positiveInt(60_000),
  ARENA_JOB_MAX_ATTEMPTS: positiveInt(3),
  ARENA_WORKER_CONCURRENCY: positiveInt(4),
  ARENA_INTROSPECTION: z.preprocess(emptyAsUndefined, z.enum(['true', 'false']).optional()),
  ARENA_CLASSIFY_MAX_TEXTS: positiveInt(1000),
  ARENA_CLASSIFY_MAX_TEXT_LENGTH: positiveInt(100_000),
  ARENA_PREDICT_MAX_ELEMENTS: positiveInt(1_000_000),
  ARENA_INFERENCE_CACHE_TTL_MS: nonNegativeInt(600_000),
  ARENA_INFERENCE_CACHE_ENTRIES: positiveInt(100_000),
  ARENA_MICROBATCH_WINDOW_MS: z.preprocess(emptyAsUndefined, z.union([z.literal('off'), z.coerce.number().int().min(0).max(100)]).default(0)),
  ARENA_MODEL_CACHE_SIZE: positiveInt(4),
  ARENA_ALIAS_REFRESH_MS: positiveInt(30_000),
  ARENA_MODEL_UPLOAD_LIMIT_BYTES: positiveInt(512 * 1024 * 1024),
  ARENA_MODEL_INSPECT_TIMEOUT_MS: positiveInt(60_000),
  // Node with onnxruntime needs 100–130 MiB just to start (see src/inference/onnx-inspector.ts).
  ARENA_MODEL_INSPECT_MEMORY_BYTES: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int()
      .min(256 * 1024 * 1024, { message: 'must be at least 268435456 (256 MiB): node and onnxruntime need that much to start' })
      .default(4 * 1024 * 1024 * 1024),
  ),
  ARENA_INFERENCE_JOB_MAX_TEXTS: positiveInt(100_000),
  ARENA_AUDIT_FLUSH_MS: positiveInt(250),
  ARENA_DATASET_UPLOAD_LIMIT_BYTES: positiveInt(1024 * 1024 * 1024),
  ARENA_DATASET_MAX_ROWS: positiveInt(5_000_000),
  ARENA_DATASET_MAX_TEXT_LENGTH: positiveInt(100_000),
  ARENA_TRAINING_RUN_TIMEOUT_MS: positiveInt(6 * 3600 * 1000),
  ARENA_TRAINING_RUNNERS: z.preprocess(emptyAsUndefined, z.string().optional()).superRefine((value, ctx) => {
    if (value === undefined) return;
    const problem = runnersProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  ARENA_GPUS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^(none|\d+(,\d+)*)$/, { message: 'must be `none` or GPU indexes such as `0,1`' })
      .optional(),
  ),
  ARENA_JWT_SECRET: z.preprocess(
    emptyAsUndefined,
    z.string().min(32, { message: 'must be at least 32 characters (e.g. `openssl rand -base64 48`)' }).optional(),
  ),
  ARENA_JWT_ISSUER: z.preprocess(emptyAsUndefined, z.string().min(1).default('content-arena')),
  ARENA_JWT_AUDIENCE: z.preprocess(emptyAsUndefined, z.string().min(1).default('content-arena-api')),
  ARENA_ACCESS_TOKEN_TTL_S: positiveInt(3600),
  ARENA_REFRESH_TOKEN_TTL_S: positiveInt(30 * 24 * 3600),
  ARENA_SIGN_IN_LINK_TTL_S: positiveInt(24 * 3600),
  ARENA_ADMIN_EMAIL: z.preprocess(emptyAsUndefined, z.string().min(3).default('admin@localhost')),
  ARENA_RATE_LIMIT_USER_PER_MINUTE: positiveInt(1200),
  ARENA_RATE_LIMIT_IP_PER_MINUTE: positiveInt(2400),
  ARENA_LOGIN_MAX_FAILURES: positiveInt(10),
  ARENA_LOGIN_WINDOW_S: positiveInt(900),
  ARENA_MAX_DEPTH: positiveInt(12),
  ARENA_MAX_ALIASES: positiveInt(30),
  ARENA_MAX_DIRECTIVES: positiveInt(20),
  ARENA_MAX_COST: positiveInt(5000),
  ARENA_MAX_TOKENS: positiveInt(2000),
  ARENA_LLM_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .url({ message: 'must be the base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1 (Ollama)' })
      .refine((u) => /^https?:/.test(u), { message: 'must be an http:// or https:// URL' })
      .optional(),
  ),
  ARENA_LLM_MODEL: z.preprocess(emptyAsUndefined, z.string().min(1).default('llama3.2')),
  ARENA_LLM_API_KEY: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  ARENA_LLM_TIMEOUT_MS: positiveInt(20_000),
  ARENA_LLM_CONCURRENCY: positiveInt(4),
  ARENA_LLM_CIRCUIT_RESET_MS: positiveInt(30_000),
});

export type Mode = 'embedded' | 'scaled';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Absolute path; holds the embedded database and, later, artifacts. */
  readonly dataDir: string;
  /** Undefined: embedded PGlite under dataDir. */
  readonly databaseUrl: string | undefined;
  /** Undefined: in-process queues and pub/sub. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key and channel this deployment uses, so deployments can share a Redis. */
  readonly redisPrefix: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly nodeEnv: (typeof NODE_ENVS)[number];
  readonly bodyLimitBytes: number;
  /** How long a WebSocket may stay open without `connection_init` before it is closed with 4408. */
  readonly wsInitTimeoutMs: number;
  /** How long a shutdown waits for running jobs and requests before handing jobs back. */
  readonly shutdownGraceMs: number;
  readonly reconcileIntervalMs: number;
  /** A RUNNING job whose heartbeat is older than this is treated as lost. */
  readonly jobStaleAfterMs: number;
  readonly jobMaxAttempts: number;
  readonly workerConcurrency: number;
  readonly introspection: boolean;
  readonly inference: InferenceConfig;
  readonly dataset: DatasetConfig;
  readonly training: TrainingConfig;
  readonly security: SecurityConfig;
  readonly llm: LlmConfig;
}

/** The language model behind the llm-paraphrase attack strategy: an OpenAI-compatible chat endpoint. */
export interface LlmConfig {
  /** Base URL (…/v1); `/chat/completions` is appended. Undefined: llm-paraphrase is skipped with a notice. */
  readonly url: string | undefined;
  readonly model: string;
  readonly apiKey: string | undefined;
  /** One paraphrase slower than this counts as a failure (the round falls back). */
  readonly timeoutMs: number;
  /** Paraphrase requests in flight per process. */
  readonly concurrency: number;
  /** How long the circuit stays open after repeated failures before one call tests the endpoint again. */
  readonly circuitResetMs: number;
}

/** A training runner: a command that reads a JSON config and writes JSON lines (see src/domain/training). */
export interface TrainingRunnerConfig {
  readonly command: readonly string[];
  readonly device: 'cpu' | 'cuda' | 'any';
}

export interface TrainingConfig {
  /** A runner still running after this long is stopped and its run failed. */
  readonly runTimeoutMs: number;
  /** Runners besides the built-in one, by name (ARENA_TRAINING_RUNNERS, JSON). */
  readonly runners: Readonly<Record<string, TrainingRunnerConfig>>;
  /** `none`, GPU indexes to use, or undefined: whatever nvidia-smi lists. */
  readonly gpus: string | undefined;
}

export interface DatasetConfig {
  /** Largest uploaded dataset file, in bytes. */
  readonly uploadLimitBytes: number;
  /** Rows per dataset version upload. */
  readonly maxRows: number;
  /** Characters (UTF-16 code units) per example text. */
  readonly maxTextLength: number;
}

export interface SecurityConfig {
  /** HS256 signing key; undefined: one generated once and kept in the database, shared by every process. */
  readonly jwtSecret: string | undefined;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  readonly signInLinkTtlS: number;
  /** The admin the first start creates when there are no users. */
  readonly adminEmail: string;
  /** Requests (HTTP operations and WebSocket subscribes) per minute. */
  readonly rateLimitUserPerMinute: number;
  readonly rateLimitIpPerMinute: number;
  /** Failed sign-ins per account and per IP in `loginWindowS` before RATE_LIMITED. */
  readonly loginMaxFailures: number;
  readonly loginWindowS: number;
  /** Operation limits, the same over HTTP and WebSocket. */
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxCost: number;
  readonly maxTokens: number;
}

export interface InferenceConfig {
  /** Texts per `classify` call. */
  readonly maxTexts: number;
  /** Characters per text. */
  readonly maxTextLength: number;
  /** Tensor elements per `predict` call, all inputs together. */
  readonly maxPredictElements: number;
  /** How long a classification stays cached; 0 turns the result cache off. */
  readonly cacheTtlMs: number;
  /** Entries in the in-process result cache (used when Redis is not configured). */
  readonly cacheEntries: number;
  /**
   * Concurrent calls arriving within this window share one onnxruntime run; 0 gathers only the
   * calls of one event-loop turn (no added wait); null (`off`) runs each call alone.
   */
  readonly microBatchWindowMs: number | null;
  /** Loaded model versions kept per process. */
  readonly modelCacheSize: number;
  /** An alias resolved longer ago than this is checked again (events usually update it first). */
  readonly aliasRefreshMs: number;
  readonly uploadLimitBytes: number;
  readonly inspectTimeoutMs: number;
  readonly inspectMemoryBytes: number;
  /** Texts per bulk inference job. */
  readonly jobMaxTexts: number;
  /** How often buffered audit entries are written. */
  readonly auditFlushMs: number;
}

/** Parses the environment once. Throws ConfigError naming each bad variable and what it allows. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = issue.path.join('.');
      const received = env[variable];
      return `${variable}=${JSON.stringify(received)}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(cwd, e.ARENA_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.ARENA_REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    nodeEnv: e.NODE_ENV,
    bodyLimitBytes: e.ARENA_BODY_LIMIT_BYTES,
    wsInitTimeoutMs: e.ARENA_WS_INIT_TIMEOUT_MS,
    shutdownGraceMs: e.ARENA_SHUTDOWN_GRACE_MS,
    reconcileIntervalMs: e.ARENA_RECONCILE_INTERVAL_MS,
    jobStaleAfterMs: e.ARENA_JOB_STALE_AFTER_MS,
    jobMaxAttempts: e.ARENA_JOB_MAX_ATTEMPTS,
    workerConcurrency: e.ARENA_WORKER_CONCURRENCY,
    introspection: e.ARENA_INTROSPECTION ? e.ARENA_INTROSPECTION === 'true' : e.NODE_ENV !== 'production',
    inference: Object.freeze({
      maxTexts: e.ARENA_CLASSIFY_MAX_TEXTS,
      maxTextLength: e.ARENA_CLASSIFY_MAX_TEXT_LENGTH,
      maxPredictElements: e.ARENA_PREDICT_MAX_ELEMENTS,
      cacheTtlMs: e.ARENA_INFERENCE_CACHE_TTL_MS,
      cacheEntries: e.ARENA_INFERENCE_CACHE_ENTRIES,
      microBatchWindowMs: e.ARENA_MICROBATCH_WINDOW_MS === 'off' ? null : e.ARENA_MICROBATCH_WINDOW_MS,
      modelCacheSize: e.ARENA_MODEL_CACHE_SIZE,
      aliasRefreshMs: e.ARENA_ALIAS_REFRESH_MS,
      uploadLimitBytes: e.ARENA_MODEL_UPLOAD_LIMIT_BYTES,
      inspectTimeoutMs: e.ARENA_MODEL_INSPECT_TIMEOUT_MS,
      inspectMemoryBytes: e.ARENA_MODEL_INSPECT_MEMORY_BYTES,
      jobMaxTexts: e.ARENA_INFERENCE_JOB_MAX_TEXTS,
      auditFlushMs: e.ARENA_AUDIT_FLUSH_MS,
    }),
    dataset: Object.freeze({
      uploadLimitBytes: e.ARENA_DATASET_UPLOAD_LIMIT_BYTES,
      maxRows: e.ARENA_DATASET_MAX_ROWS,
      maxTextLength: e.ARENA_DATASET_MAX_TEXT_LENGTH,
    }),
    training: Object.freeze({
      runTimeoutMs: e.ARENA_TRAINING_RUN_TIMEOUT_MS,
      runners: Object.freeze(e.ARENA_TRAINING_RUNNERS ? (JSON.parse(e.ARENA_TRAINING_RUNNERS) as Record<string, TrainingRunnerConfig>) : {}),
      gpus: e.ARENA_GPUS,
    }),
    llm: Object.freeze({
      url: e.ARENA_LLM_URL,
      model: e.ARENA_LLM_MODEL,
      apiKey: e.ARENA_LLM_API_KEY,
      timeoutMs: e.ARENA_LLM_TIMEOUT_MS,
      concurrency: e.ARENA_LLM_CONCURRENCY,
      circuitResetMs: e.ARENA_LLM_CIRCUIT_RESET_MS,
    }),
    security: Object.freeze({
      jwtSecret: e.ARENA_JWT_SECRET,
      jwtIssuer: e.ARENA_JWT_ISSUER,
      jwtAudience: e.ARENA_JWT_AUDIENCE,
      accessTokenTtlS: e.ARENA_ACCESS_TOKEN_TTL_S,
      refreshTokenTtlS: e.ARENA_REFRESH_TOKEN_TTL_S,
      signInLinkTtlS: e.ARENA_SIGN_IN_LINK_TTL_S,
      adminEmail: e.ARENA_ADMIN_EMAIL.trim().toLowerCase(),
      rateLimitUserPerMinute: e.ARENA_RATE_LIMIT_USER_PER_MINUTE,
      rateLimitIpPerMinute: e.ARENA_RATE_LIMIT_IP_PER_MINUTE,
      loginMaxFailures: e.ARENA_LOGIN_MAX_FAILURES,
      loginWindowS: e.ARENA_LOGIN_WINDOW_S,
      maxDepth: e.ARENA_MAX_DEPTH,
      maxAliases: e.ARENA_MAX_ALIASES,
      maxDirectives: e.ARENA_MAX_DIRECTIVES,
      maxCost: e.ARENA_MAX_COST,
      maxTokens: e.ARENA_MAX_TOKENS,
    }),
  });
}

/**
 * Null when `json` is a usable ARENA_TRAINING_RUNNERS value: an object of
 * `{ "name": { "command": ["python3", "runners/pytorch/train.py"], "device": "cuda" } }`.
 */
function runnersProblem(json: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return 'must be JSON: {"name": {"command": ["program", "arg"], "device": "cpu" | "cuda" | "any"}}';
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'must be a JSON object of runners by name';
  for (const [name, runner] of Object.entries(value as Record<string, unknown>)) {
    if (!/^[a-z][a-z0-9-]{0,63}$/.test(name)) return `runner name ${JSON.stringify(name)} must be lowercase letters, digits and dashes`;
    if (name === 'builtin') return 'the name builtin is taken by the built-in trainer';
    const r = runner as { command?: unknown; device?: unknown } | null;
    if (!r || !Array.isArray(r.command) || r.command.length === 0 || !r.command.every((c) => typeof c === 'string' && c.length > 0)) {
      return `runner ${name}: command must be a non-empty array of strings`;
    }
    if (r.device !== undefined && !['cpu', 'cuda', 'any'].includes(r.device as string)) return `runner ${name}: device must be cpu, cuda or any`;
  }
  return null;
}

export function modeOf(config: Pick<Config, 'databaseUrl' | 'redisUrl'>): Mode {
  return config.databaseUrl || config.redisUrl ? 'scaled' : 'embedded';
}

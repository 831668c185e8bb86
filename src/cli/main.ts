#!/usr/bin/env node
import 'reflect-metadata';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { startApp, type App } from '../app.js';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { Database } from '../db/database.js';
import { DataDirInUseError } from '../db/embedded-postgres.js';
import { randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { isRole, ROLES, type Role } from '../domain/index.js';
import { AppError } from '../errors.js';
import { User } from '../entities/index.js';
import { createLogger, type Logger } from '../logger.js';
import { createRuntime, type Runtime } from '../runtime.js';
import type { ImportProgress, Principal } from '../services/index.js';
import { QUEUE_NAMES, isQueueName, type QueueName } from '../queue/index.js';
import { VERSION } from '../version.js';

/** Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage. */
class UsageError extends Error {}

function parseQueues(value: string): QueueName[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !isQueueName(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`unknown queue(s) ${unknown.join(', ') || '(none given)'}; known: ${QUEUE_NAMES.join(', ')}`);
  }
  return names as QueueName[];
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

function requireScaled(config: Config, command: string): void {
  const missing = [!config.databaseUrl && 'DATABASE_URL', !config.redisUrl && 'REDIS_URL'].filter(Boolean);
  if (missing.length > 0) {
    throw new UsageError(
      `arena ${command} runs as one of several processes and needs ${missing.join(' and ')} ` +
        '(the embedded database belongs to one process and in-process jobs never leave it). ' +
        'For everything in one process on the embedded defaults, run `arena start`.',
    );
  }
}

/** Runs the app until SIGTERM or SIGINT, then shuts down gracefully; a second signal forces exit. */
async function runUntilSignalled(log: Logger, start: () => Promise<App>): Promise<void> {
  const app = await start();
  await new Promise<void>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      signalled = true;
      log.info({ signal }, 'shutting down');
      app.close().then(resolve, (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  log.info('stopped');
  log.flush();
}

const program = new Command()
  .name('arena')
  .description('Content Arena: attackers vs content-moderation models, over one GraphQL API.')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('start')
  .description('API and workers in one process (what `npm start` runs). Embedded defaults without DATABASE_URL/REDIS_URL.')
  .action(async () => {
    const config = loadConfig();
    const log = createLogger(config);
    await runUntilSignalled(log, () =>
      startApp(config, log, { api: true, worker: { queues: QUEUE_NAMES, concurrency: config.workerConcurrency } }),
    );
  });

program
  .command('serve')
  .description('The API alone (scaled mode: needs DATABASE_URL and REDIS_URL).')
  .action(async () => {
    const config = loadConfig();
    requireScaled(config, 'serve');
    const log = createLogger(config);
    await runUntilSignalled(log, () => startApp(config, log, { api: true, worker: undefined }));
  });

program
  .command('worker')
  .description('A worker process (scaled mode: needs DATABASE_URL and REDIS_URL).')
  .option('--queues <names>', `comma-separated queues to consume (${QUEUE_NAMES.join(', ')})`, parseQueues, [...QUEUE_NAMES])
  .option('--concurrency <n>', 'jobs run at once per queue (default: ARENA_WORKER_CONCURRENCY)', parsePositiveInt)
  .action(async (opts: { queues: QueueName[]; concurrency?: number }) => {
    const config = loadConfig();
    requireScaled(config, 'worker');
    const log = createLogger(config);
    await runUntilSignalled(log, () =>
      startApp(config, log, { api: false, worker: { queues: opts.queues, concurrency: opts.concurrency ?? config.workerConcurrency } }),
    );
  });

program
  .command('migrate')
  .description('Apply pending database migrations and exit.')
  .action(async () => {
    const config = loadConfig();
    const log = createLogger(config);
    const db = await Database.open(config, log);
    try {
      const applied = await db.migrate();
      console.log(applied.length > 0 ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'Database is up to date.');
    } finally {
      await db.close();
    }
  });

function parseRole(value: string): Role {
  if (!isRole(value)) throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
  return value;
}

/** Runs a use case against the configured database (no API, no workers) and closes everything. */
async function withRuntime<T>(work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const log = createLogger({ ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const runtime = await createRuntime(config, log, { migrate: true });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

async function findUser(runtime: Runtime, email: string): Promise<User> {
  const user = await runtime.db.fork().findOne(User, { email: email.trim().toLowerCase() });
  if (!user) throw new UsageError(`No user with email ${email}. Create one with \`arena users create --email ${email}\`.`);
  return user;
}

const users = program.command('users').description('Users for scripts and CI (works on the database directly; stop an embedded `arena start` first).');

users
  .command('create')
  .description('Create a user. Prints a generated password unless --password-stdin is given.')
  .requiredOption('--email <email>', 'the user’s email')
  .option('--role <role>', `one of ${ROLES.join(', ')}`, parseRole, 'user' as Role)
  .option('--password-stdin', 'read the password from standard input')
  .action(async (opts: { email: string; role: Role; passwordStdin?: boolean }) => {
    const password = opts.passwordStdin ? (await text(process.stdin)).replace(/\r?\n$/, '') : randomBytes(18).toString('base64url');
    const user = await withRuntime((runtime) => runtime.services.users.insert(runtime.db.fork(), { email: opts.email, password, role: opts.role }));
    console.log(`Created ${user.role} ${user.email} (id ${user.id}).`);
    if (!opts.passwordStdin) console.log(`Password (shown once): ${password}`);
  });

users
  .command('token')
  .description('Print an access token for a user (a new session), for scripts: TOKEN=$(arena users token --email …).')
  .requiredOption('--email <email>', 'the user’s email')
  .option('--json', 'print the access and refresh tokens as JSON')
  .action(async (opts: { email: string; json?: boolean }) => {
    const tokens = await withRuntime(async (runtime) => {
      const user = await findUser(runtime, opts.email);
      if (user.disabled) throw new UsageError(`${user.email} is disabled.`);
      return runtime.services.auth.openSession(runtime.db.fork(), user);
    });
    console.log(opts.json ? JSON.stringify(tokens) : tokens.accessToken);
  });

users
  .command('link')
  .description('Print a one-time sign-in link for a user (GraphiQL signs in with it).')
  .requiredOption('--email <email>', 'the user’s email')
  .option('--url <url>', 'the platform’s address as users reach it (default: http://HOST:PORT)')
  .action(async (opts: { email: string; url?: string }) => {
    const config = loadConfig();
    const base = opts.url ?? `http://${config.host}:${config.port}`;
    const link = await withRuntime(async (runtime) => {
      const user = await findUser(runtime, opts.email);
      return runtime.services.auth.createSignInLink(runtime.db.fork(), user.id);
    });
    console.log(`${base.replace(/\/$/, '')}/graphiql#signin=${link.token}`);
  });

function parseRatio(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

const datasets = program.command('datasets').description('Datasets (works on the database directly; stop an embedded `arena start` first).');
const importer = datasets.command('import').description('Import a public corpus as a new dataset version.');

importer
  .command('spam-assassin')
  .description('The SpamAssassin public mail corpus (6,046 e-mails; subject and body; labels ham, spam; duplicates dropped; split by hash).')
  .option('--name <name>', 'the dataset to create, or to add a version to', 'spam-assassin')
  .option('--split-ratio <ratio>', 'share of examples held out for test', parseRatio, 0.2)
  .option('--owner <email>', 'make it this user’s dataset (default: the platform’s, readable by every signed-in user)')
  .action(async (opts: { name: string; splitRatio: number; owner?: string }) => {
    const done = await withRuntime(async (runtime) => {
      let actor: Principal | null = null;
      if (opts.owner) {
        const user = await findUser(runtime, opts.owner);
        actor = { id: user.id, role: user.role, kind: 'user', email: user.email, sessionId: null, apiKeyId: null, expiresAt: null };
      }
      // cli-progress draws only on a terminal; logs and CI get the summary lines alone.
      const bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: ' {phase} [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      let phase: ImportProgress['phase'] | undefined;
      const onProgress = (p: ImportProgress) => {
        const label = p.phase === 'read' ? 'reading e-mails ' : 'writing examples';
        if (p.phase !== phase) {
          if (phase) bar.stop();
          phase = p.phase;
          bar.start(p.total, p.done, { phase: label });
        } else {
          bar.update(p.done);
        }
      };
      try {
        return await runtime.services.datasets.importSpamAssassin(runtime.db.fork(), actor, { name: opts.name, splitRatio: opts.splitRatio, onProgress });
      } finally {
        bar.stop();
      }
    });
    const { dataset, version, emails, duplicates, seconds } = done;
    const [ham, spam] = version.validation.classDistribution;
    console.log(
      `Imported ${version.rowCount} examples from ${emails} e-mails (${duplicates} duplicates dropped) in ${seconds.toFixed(1)} s: ` +
        `${ham?.count ?? 0} ham, ${spam?.count ?? 0} spam; ${version.validation.splits.train} train, ${version.validation.splits.test} test.`,
    );
    console.log(`dataset ${dataset.name} (id ${dataset.id}) version ${version.version} (id ${version.id})`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof AppError) {
    console.error(`${error.code}: ${error.message}`);
    process.exitCode = 2;
  } else if (error instanceof ConfigError || error instanceof UsageError) {
    console.error(error.message);
    process.exitCode = 2;
  } else if (error instanceof DataDirInUseError) {
    console.error(error.message);
    process.exitCode = 1;
  } else {
    console.error(error);
    process.exitCode = 1;
  }
}

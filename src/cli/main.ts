#!/usr/bin/env node
import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { startApp, type App } from '../app.js';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { Database } from '../db/database.js';
import { DataDirInUseError } from '../db/embedded-postgres.js';
import { createLogger, type Logger } from '../logger.js';
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError || error instanceof UsageError) {
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

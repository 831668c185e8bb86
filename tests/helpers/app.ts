import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { WebSocket } from 'ws';
import { startApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { QUEUE_NAMES } from '../../src/queue/index.js';
import type { Role } from '../../src/domain/index.js';
import { User } from '../../src/entities/index.js';
import { ArenaGraphQLError, createArenaClient, type ArenaClient } from '../../src/sdk/index.js';
import type { UserView } from '../../src/services/index.js';
import type { TestBackend } from './backend.js';

export interface TestApp {
  readonly app: App;
  readonly config: Config;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Signed in as an admin (most tests are not about permissions). */
  readonly client: ArenaClient;
  /** The admin's access token, and the header that carries it. */
  readonly token: string;
  readonly auth: { authorization: string };
  /** A new user with this role, signed in, with a client of their own (closed with the app). */
  signIn(role: Role, email?: string): Promise<SignedIn>;
  close(): Promise<void>;
}

export interface SignedIn {
  readonly user: UserView;
  readonly token: string;
  readonly refreshToken: string;
  readonly client: ArenaClient;
  readonly auth: { authorization: string };
}

export const TEST_PASSWORD = 'correct horse battery staple';

const quiet = () => new Writable({ write: (_chunk, _enc, done) => done() });

/** The real platform on an ephemeral port, as `arena start` runs it unless options say otherwise. */
export async function startTestApp(
  backend: TestBackend,
  env: Record<string, string> = {},
  options: Partial<AppOptions> = {},
): Promise<TestApp> {
  const config = loadConfig({ ...backend.env, PORT: '0', LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent', NODE_ENV: 'test', ...env });
  const log = createLogger(config, process.env['TEST_LOG_LEVEL'] ? process.stderr : quiet());
  const app = await startApp(config, log, {
    api: options.api ?? true,
    worker: 'worker' in options ? options.worker : { queues: QUEUE_NAMES, concurrency: 4 },
  });
  const url = app.api?.url ?? 'http://127.0.0.1:0';
  const clients: ArenaClient[] = [];
  let n = 0;
  const signIn = async (role: Role, email = `${role}-${++n}@test.example`): Promise<SignedIn> => {
    const { services, db } = app.runtime;
    // A restarted app on the same data keeps its users.
    if (!(await db.fork().findOne(User, { email }))) await services.users.insert(db.fork(), { email, password: TEST_PASSWORD, role });
    const tokens = await services.auth.openSession(db.fork(), await db.fork().findOneOrFail(User, { email }));
    const client = createArenaClient({ url, webSocketImpl: WebSocket, token: tokens.accessToken });
    clients.push(client);
    return { user: tokens.user, token: tokens.accessToken, refreshToken: tokens.refreshToken, client, auth: { authorization: `Bearer ${tokens.accessToken}` } };
  };
  const admin = await signIn('admin', 'root@test.example');
  return {
    app,
    config,
    url,
    client: admin.client,
    token: admin.token,
    auth: admin.auth,
    signIn,
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
      await app.close();
    },
  };
}

/** The typed error a GraphQL request failed with; fails the test if it succeeded or failed otherwise. */
export async function graphQLFailure(promise: Promise<unknown>): Promise<ArenaGraphQLError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArenaGraphQLError);
  return error as ArenaGraphQLError;
}

/** POST a raw body to /graphql, for the cases a typed client cannot express. */
export async function postRaw(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body });
  const text = await response.text();
  let json: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, headers: response.headers };
}

/** Collects a subscription's events until `until` holds for one (or the subscription ends). */
export async function collectUntil<T>(iterator: AsyncIterableIterator<T>, until: (event: T) => boolean, timeoutMs = 20_000): Promise<T[]> {
  const events: T[] = [];
  const timer = setTimeout(() => void iterator.return?.(), timeoutMs);
  try {
    for await (const event of { [Symbol.asyncIterator]: () => iterator }) {
      events.push(event);
      if (until(event)) break;
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
  return events;
}

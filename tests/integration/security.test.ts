import { decodeJwt, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { parse, getIntrospectionQuery, type DocumentNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ArenaGraphQLError,
  AuditLogDocument,
  ClassifyDocument,
  CreateModelDocument,
  CreateApiKeyDocument,
  LoginDocument,
  LogoutDocument,
  MeDocument,
  PingJobUpdatedDocument,
  PingJobsDocument,
  RefreshTokenDocument,
  RequestPingDocument,
  RevokeApiKeyDocument,
  UpdateUserDocument,
  createArenaClient,
  type ArenaClient,
} from '../../src/sdk/index.js';
import { collectUntil, graphQLFailure, postRaw, startTestApp, TEST_PASSWORD, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';

const SECRET = 'a test signing secret that is long enough to use';
const ISSUER = 'content-arena';
const AUDIENCE = 'content-arena-api';

let backend: TestBackend;
let t: TestApp;
const extraClients: ArenaClient[] = [];

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend, { ARENA_JWT_SECRET: SECRET });
});

afterAll(async () => {
  await Promise.all(extraClients.map((c) => c.close()));
  await t?.close();
  await backend?.cleanup();
});

const clientWith = (token: string | undefined): ArenaClient => {
  const c = createArenaClient({ url: t.url, webSocketImpl: WebSocket, ...(token ? { token } : {}) });
  extraClients.push(c);
  return c;
};

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

/** What `{ me }` answers over HTTP with this bearer token: the status and the first error's code and reason. */
async function meOverHttp(token: string) {
  const r = await postRaw(t.url, JSON.stringify({ query: '{ me { id } }' }), { 'content-type': 'application/json', authorization: `Bearer ${token}` });
  const error = r.json?.errors?.[0] as { extensions?: { code?: string; reason?: string } } | undefined;
  return { status: r.status, code: error?.extensions?.code, reason: error?.extensions?.reason, data: r.json?.data };
}

/** The close code a graphql-ws connection gets after sending connection_init with these params (or the ack). */
function wsConnect(payload: Record<string, unknown>): Promise<{ acked: boolean; code: number | null; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${t.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const timer = setTimeout(() => reject(new Error('no answer to connection_init')), 10_000);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload })));
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') {
        clearTimeout(timer);
        resolve({ acked: true, code: null, socket });
      }
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      resolve({ acked: false, code, socket });
    });
    socket.on('error', reject);
  });
}

const closed = (socket: WebSocket, timeoutMs = 10_000) =>
  new Promise<number>((resolve, reject) => {
    if (socket.readyState === WebSocket.CLOSED) return reject(new Error('already closed'));
    const timer = setTimeout(() => reject(new Error('socket still open')), timeoutMs);
    socket.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

describe('access tokens', () => {
  let claims: { sub: string; sid: string };
  const key = new TextEncoder().encode(SECRET);
  const signed = (payload: Record<string, unknown>, header: { alg: string } = { alg: 'HS256' }, signKey: Parameters<SignJWT['sign']>[0] = key) =>
    new SignJWT(payload).setProtectedHeader({ ...header, typ: 'JWT' }).sign(signKey);

  beforeAll(async () => {
    const user = await t.signIn('user');
    const decoded = decodeJwt(user.token);
    claims = { sub: decoded.sub!, sid: decoded['sid'] as string };
  });

  const valid = () => ({ ...claims, iss: ISSUER, aud: AUDIENCE, iat: nowS(), exp: nowS() + 600 });

  it('accepts a token made the way the server makes them (so the refusals below are about the attack)', async () => {
    const r = await meOverHttp(await signed(valid()));
    expect(r).toMatchObject({ status: 200, data: { me: { id: claims.sub } } });
  });

  it('refuses the known JWT attacks over HTTP (401) and WebSocket (4403)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(valid())}.`;
    const { exp: _exp, ...noExp } = valid();
    const attacks: [string, string][] = [
      ['alg: none', unsigned],
      ['alg: none, signature kept', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(valid())}.${(await signed(valid())).split('.')[2]}`],
      ['RS256 with another key pair', await signed(valid(), { alg: 'RS256' }, privateKey)],
      ['HS256 keyed with an RSA public key (key confusion)', await signed(valid(), { alg: 'HS256' }, new TextEncoder().encode(await exportSPKI(publicKey)))],
      ['HS512 with the right secret', await signed(valid(), { alg: 'HS512' })],
      ['expired a second ago', await signed({ ...valid(), iat: nowS() - 61, exp: nowS() - 1 })],
      ['wrong audience', await signed({ ...valid(), aud: 'some-other-api' })],
      ['wrong issuer', await signed({ ...valid(), iss: 'https://evil.example' })],
      ['missing exp', await signed(noExp)],
      ['payload edited after signing', `${(await signed(valid())).split('.')[0]}.${b64url({ ...valid(), sub: 'someone-else' })}.${(await signed(valid())).split('.')[2]}`],
    ];
    for (const [name, token] of attacks) {
      const http = await meOverHttp(token);
      expect({ name, status: http.status, code: http.code }).toEqual({ name, status: 401, code: 'UNAUTHENTICATED' });
      const ws = await wsConnect({ authorization: `Bearer ${token}` });
      expect({ name, acked: ws.acked, code: ws.code }).toEqual({ name, acked: false, code: 4403 });
    }
    const expired = await meOverHttp(attacks.find(([n]) => n.startsWith('expired'))![1]);
    expect(expired.reason).toBe('TOKEN_EXPIRED');
  });

  it('closes a live WebSocket with 4403 when its token expires', async () => {
    const token = await signed({ ...valid(), exp: nowS() + 2 });
    const ws = await wsConnect({ authorization: `Bearer ${token}` });
    expect(ws.acked).toBe(true);
    expect(await closed(ws.socket)).toBe(4403);
  });
});

describe('sessions and refresh tokens', () => {
  it('rotates the refresh token on every use; replaying a used one ends the whole family', async () => {
    await t.signIn('user', 'rotate@test.example');
    const anon = clientWith(undefined);
    const first = (await anon.request(LoginDocument, { input: { email: 'rotate@test.example', password: TEST_PASSWORD } })).login;
    expect(first.user.email).toBe('rotate@test.example');
    const second = (await anon.request(RefreshTokenDocument, { input: { refreshToken: first.refreshToken } })).refreshToken;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const third = (await anon.request(RefreshTokenDocument, { input: { refreshToken: second.refreshToken } })).refreshToken;
    expect((await clientWith(third.accessToken).request(MeDocument)).me?.email).toBe('rotate@test.example');

    // A thief replays the first token: refused, and the legitimate holder's newest tokens die too.
    const replay = await graphQLFailure(anon.request(RefreshTokenDocument, { input: { refreshToken: first.refreshToken } }));
    expect(replay.code).toBe('UNAUTHENTICATED');
    const after = await graphQLFailure(anon.request(RefreshTokenDocument, { input: { refreshToken: third.refreshToken } }));
    expect(after.code).toBe('UNAUTHENTICATED');
    expect((await meOverHttp(third.accessToken)).status).toBe(401);
  });

  it('logout ends the session: its access and refresh tokens stop working, other sessions go on', async () => {
    await t.signIn('user', 'logout@test.example');
    const anon = clientWith(undefined);
    const login = () => anon.request(LoginDocument, { input: { email: 'logout@test.example', password: TEST_PASSWORD } }).then((r) => r.login);
    const [a, b] = [await login(), await login()];
    expect((await clientWith(a.accessToken).request(LogoutDocument, {})).logout.sessionsEnded).toBe(1);
    expect((await meOverHttp(a.accessToken)).status).toBe(401);
    expect((await graphQLFailure(anon.request(RefreshTokenDocument, { input: { refreshToken: a.refreshToken } }))).code).toBe('UNAUTHENTICATED');
    expect((await meOverHttp(b.accessToken)).status).toBe(200);
  });

  it('stores passwords as argon2id hashes with at least OWASP’s parameters', async () => {
    const rows = await t.app.runtime.db
      .fork()
      .getConnection()
      .execute<{ password_hash: string }[]>(`select password_hash from app_user where email = 'logout@test.example'`);
    const hash = rows[0]!.password_hash;
    expect(hash).not.toContain(TEST_PASSWORD);
    const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash);
    expect(m).not.toBeNull();
    const [memoryKiB, passes] = [Number(m![1]), Number(m![2])];
    // OWASP: m=19 MiB with t=2 (or more memory with fewer passes).
    expect(memoryKiB >= 19_456 && passes >= 2).toBe(true);
  });
});

describe('API keys', () => {
  it('are shown once, hashed at rest, capped at the role they were made with, and revocable', async () => {
    const owner = await t.signIn('user');
    const { createApiKey } = await owner.client.request(CreateApiKeyDocument, { input: { name: 'dashboard', role: 'viewer' } });
    expect(createApiKey.key.startsWith(createApiKey.apiKey.prefix)).toBe(true);
    const stored = await t.app.runtime.db
      .fork()
      .getConnection()
      .execute<Record<string, unknown>[]>(`select * from api_key where id = ?`, [createApiKey.apiKey.id]);
    expect(JSON.stringify(stored)).not.toContain(createApiKey.key);

    const viaKey = clientWith(createApiKey.key);
    expect((await viaKey.request(MeDocument)).me?.id).toBe(owner.user.id);
    // The key reads as a viewer, though its owner is a user.
    expect((await graphQLFailure(viaKey.request(RequestPingDocument, { input: { message: 'by key' } }))).code).toBe('FORBIDDEN');
    // A user cannot mint a key above their own role.
    expect((await graphQLFailure(owner.client.request(CreateApiKeyDocument, { input: { name: 'escalate', role: 'admin' } }))).code).toBe('FORBIDDEN');

    const ws = await wsConnect({ authorization: createApiKey.key });
    expect(ws.acked).toBe(true);
    await owner.client.request(RevokeApiKeyDocument, { input: { id: createApiKey.apiKey.id } });
    expect(await closed(ws.socket)).toBe(4403);
    expect((await graphQLFailure(viaKey.request(MeDocument))).code).toBe('UNAUTHENTICATED');
  });
});

describe('hostile queries are refused before any resolver runs', () => {
  const deep = (n: number) => `${'{ me '.repeat(1)}${'{ a '.repeat(n - 1)}{ id }${' }'.repeat(n)}`;
  const pingCount = async () => (await t.client.request(PingJobsDocument, { first: 1 })).pingJobs.totalCount;
  const manyPings = (n: number) => `mutation { ${Array.from({ length: n }, (_, i) => `p${i}: requestPing(input: { message: "alias ${i}" }) { pingJob { id } }`).join(' ')} }`;

  it('over HTTP: a depth-50 query and a 101-alias mutation', async () => {
    const depth = await postRaw(t.url, JSON.stringify({ query: deep(50) }), { 'content-type': 'application/json', ...t.auth });
    expect(depth.status).toBe(400);
    expect(depth.json?.errors?.map((e) => e.message)).toContainEqual(expect.stringMatching(/depth limit of 12 exceeded, found 5\d/i));

    const before = await pingCount();
    const aliases = await postRaw(t.url, JSON.stringify({ query: manyPings(101) }), { 'content-type': 'application/json', ...t.auth });
    expect(aliases.status).toBe(400);
    expect(aliases.json?.errors?.map((e) => e.message)).toContainEqual(expect.stringMatching(/aliases limit of 30 exceeded, found 101/i));
    expect(await pingCount()).toBe(before);
  });

  it('over WebSocket: the same two, refused the same way', async () => {
    const client = t.client as ArenaClient & { subscribe(doc: DocumentNode): AsyncIterableIterator<unknown> };
    const refusal = async (query: string) => {
      const error = await collectUntil(client.subscribe(parse(query) as never), () => true, 10_000).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ArenaGraphQLError);
      return (error as ArenaGraphQLError).errors.map((e) => e.message);
    };
    const before = await pingCount();
    expect(await refusal(deep(50))).toContainEqual(expect.stringMatching(/depth limit of 12 exceeded/i));
    expect(await refusal(manyPings(101))).toContainEqual(expect.stringMatching(/aliases limit of 30 exceeded/i));
    expect(await pingCount()).toBe(before);
  });
});

describe('sign-in attempts are limited per account', () => {
  const loginQuery = (email: string, password: string) => JSON.stringify({ query: `mutation { login(input: { email: "${email}", password: "${password}" }) { accessToken } }` });
  const codeOf = (r: Awaited<ReturnType<typeof postRaw>>) => r.json?.errors?.[0]?.extensions?.code;

  it('the 11th bad password in the window gets RATE_LIMITED, and then even the right one does', async () => {
    await t.signIn('user', 'brute@test.example');
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 11; i++) codes.push(codeOf(await postRaw(t.url, loginQuery('brute@test.example', `guess-${i}`))));
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('UNAUTHENTICATED'));
    expect(codes[10]).toBe('RATE_LIMITED');
    const right = await postRaw(t.url, loginQuery('brute@test.example', TEST_PASSWORD));
    expect(codeOf(right)).toBe('RATE_LIMITED');
    expect((right.json?.errors?.[0]?.extensions as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('gives no extra guesses to attempts sent as aliases in one request, or in parallel', async () => {
    const aliased = (email: string, n: number) =>
      JSON.stringify({ query: `mutation { ${Array.from({ length: n }, (_, i) => `a${i}: login(input: { email: "${email}", password: "guess-${i}" }) { accessToken }`).join(' ')} }` });
    // Control: nine aliased guesses leave the account one attempt, which the right password uses.
    await t.signIn('user', 'nine@test.example');
    const nine = await postRaw(t.url, aliased('nine@test.example', 9));
    expect(codeOf(nine)).toBe('UNAUTHENTICATED');
    expect(codeOf(await postRaw(t.url, loginQuery('nine@test.example', TEST_PASSWORD)))).toBeUndefined();
    // Eleven aliased guesses in one request count as eleven: the account is locked after it.
    await t.signIn('user', 'aliased@test.example');
    const eleven = await postRaw(t.url, aliased('aliased@test.example', 11));
    expect(eleven.json?.data ?? null).toBeNull();
    expect(codeOf(await postRaw(t.url, loginQuery('aliased@test.example', TEST_PASSWORD)))).toBe('RATE_LIMITED');

    await t.signIn('user', 'parallel@test.example');
    const parallel = await Promise.all(Array.from({ length: 15 }, (_, i) => postRaw(t.url, loginQuery('parallel@test.example', `guess-${i}`))));
    const tally = parallel.map(codeOf).sort();
    expect(tally).toEqual([...Array(5).fill('RATE_LIMITED'), ...Array(10).fill('UNAUTHENTICATED')]);
  });
});

describe('subscriptions', () => {
  it('a subscriber of another user’s private job receives none of its events', async () => {
    const owner = await t.signIn('user');
    const other = await t.signIn('user');
    const { requestPing } = await owner.client.request(RequestPingDocument, { input: { message: 'secret', delayMs: 500 } });
    const id = requestPing.pingJob.id;
    const spying = collectUntil(other.client.subscribe(PingJobUpdatedDocument, { id }), () => false, 8_000).then(
      (events) => ({ events, error: undefined as unknown }),
      (error: unknown) => ({ events: [], error }),
    );
    const watched = await collectUntil(owner.client.subscribe(PingJobUpdatedDocument, { id }), (e) => e.pingJobUpdated.status === 'SUCCEEDED');
    expect(watched.at(-1)!.pingJobUpdated.reply).toBe('pong: secret');
    const spy = await spying;
    expect(spy.events).toEqual([]);
    // Refused exactly as a job that does not exist would be.
    expect((spy.error as ArenaGraphQLError).code).toBe('NOT_FOUND');
  });

  it('a disabled account’s live connections close with 4403 and get no more events', async () => {
    const user = await t.signIn('user');
    const ws = await wsConnect({ authorization: user.auth.authorization });
    expect(ws.acked).toBe(true);
    await t.client.request(UpdateUserDocument, { input: { id: user.user.id, disabled: true } });
    expect(await closed(ws.socket)).toBe(4403);
    expect((await meOverHttp(user.token)).status).toBe(401);
    const again = await wsConnect({ authorization: user.auth.authorization });
    expect(again).toMatchObject({ acked: false, code: 4403 });
  });

  it('a connection without credentials is closed with 4403', async () => {
    expect(await wsConnect({})).toMatchObject({ acked: false, code: 4403 });
  });
});

describe('the audit log', () => {
  it('records every mutation with who, what, outcome and request id; never a password; append-only', async () => {
    const user = await t.signIn('user');
    const requestId = `audit-${Date.now()}`;
    const ok = await postRaw(t.url, JSON.stringify({ query: 'mutation { requestPing(input: { message: "audited" }) { pingJob { id } } }' }), {
      'content-type': 'application/json',
      'x-request-id': requestId,
      ...user.auth,
    });
    const pingId = (ok.json?.data as { requestPing: { pingJob: { id: string } } }).requestPing.pingJob.id;
    await postRaw(t.url, JSON.stringify({ query: `mutation { login(input: { email: "${user.user.email}", password: "not-the-password" }) { accessToken } }` }));
    await postRaw(t.url, JSON.stringify({ query: 'mutation { createApiKey(input: { name: "by a stranger" }) { key } }' }));

    const entries = async () => (await t.client.request(AuditLogDocument, { first: 50 })).auditLog.nodes;
    await expect.poll(async () => (await entries()).some((e) => e.requestId === requestId), { timeout: 5_000 }).toBe(true);
    const mine = (await entries()).find((e) => e.requestId === requestId)!;
    expect(mine).toMatchObject({ principalId: user.user.id, principalKind: 'user', operation: 'requestPing', outcome: 'OK' });
    expect(JSON.stringify(mine.targets)).toContain(pingId);
    await expect.poll(async () => (await entries()).some((e) => e.operation === 'login' && e.outcome !== 'OK'), { timeout: 5_000 }).toBe(true);
    const all = JSON.stringify(await entries());
    expect(all).not.toContain('not-the-password');
    expect(all).not.toContain(TEST_PASSWORD);

    // Not even the application's own database user can rewrite history.
    const sql = t.app.runtime.db.fork().getConnection();
    await expect(sql.execute(`update audit_log set outcome = 'OK'`)).rejects.toThrow(/append-only/);
    await expect(sql.execute(`delete from audit_log`)).rejects.toThrow(/append-only/);

    // Only admins read it.
    expect((await graphQLFailure(user.client.request(AuditLogDocument, {}))).code).toBe('FORBIDDEN');
  });
});

describe('in production', () => {
  let prodBackend: TestBackend;
  let prod: TestApp;

  beforeAll(async () => {
    prodBackend = await createTestBackend();
    prod = await startTestApp(prodBackend, { NODE_ENV: 'production' }, { worker: undefined });
  });

  afterAll(async () => {
    await prod?.close();
    await prodBackend?.cleanup();
  });

  it('refuses introspection over WebSocket as over HTTP', async () => {
    const error = await collectUntil(prod.client.subscribe(parse(getIntrospectionQuery()) as never), () => true, 10_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArenaGraphQLError);
    expect((error as ArenaGraphQLError).message).toMatch(/introspection (is not allowed|has been disabled)/i);
  });

  it('suggests no field names, over HTTP or WebSocket', async () => {
    const http = await postRaw(prod.url, JSON.stringify({ query: '{ pingJob { id } }'.replace('pingJob', 'pingJo') }), {
      'content-type': 'application/json',
      ...prod.auth,
    });
    expect(http.json?.errors?.[0]?.message).toMatch(/Cannot query field "pingJo"/);
    expect(http.text).not.toMatch(/Did you mean/);
    const ws = await collectUntil(prod.client.subscribe(parse('subscription { pingJobUpdate(id: "x") { id } }') as never), () => true, 10_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((ws as ArenaGraphQLError).message).toMatch(/Cannot query field "pingJobUpdate"/);
    expect((ws as ArenaGraphQLError).message).not.toMatch(/Did you mean/);
  });
});

describe('request rate limits', () => {
  let own: TestBackend;
  let limited: TestApp;

  beforeAll(async () => {
    own = await createTestBackend();
    limited = await startTestApp(own, { ARENA_RATE_LIMIT_USER_PER_MINUTE: '5' }, { worker: undefined });
  });

  afterAll(async () => {
    await limited?.close();
    await own?.cleanup();
  });

  it('answers 429 with Retry-After over HTTP and RATE_LIMITED over WebSocket once a user’s budget is spent', async () => {
    const user = await limited.signIn('user');
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof postRaw>> | undefined;
    for (let i = 0; i < 7; i++) {
      const r = await postRaw(limited.url, JSON.stringify({ query: '{ me { id } }' }), { 'content-type': 'application/json', ...user.auth });
      statuses.push(r.status);
      if (r.status === 429) refused = r;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(refused!.json?.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);

    const ws = await collectUntil(user.client.subscribe(parse('subscription { pingJobUpdated(id: "00000000-0000-0000-0000-000000000000") { id } }') as never), () => true, 10_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((ws as ArenaGraphQLError).code).toBe('RATE_LIMITED');
    // Another user's budget is their own.
    const other = await limited.signIn('user');
    expect((await other.client.request(MeDocument)).me?.id).toBe(other.user.id);
  });
});

describe('private models', () => {
  it('answer a stranger exactly as a model that does not exist, whatever version or alias is asked for', async () => {
    const owner = await t.signIn('user');
    const stranger = await t.signIn('user');
    await owner.client.request(CreateModelDocument, { input: { name: 'owners-secret', labels: ['ham', 'spam'] } });
    const answer = async (model: string, extra: { version?: number; alias?: string }) => {
      const e = await graphQLFailure(stranger.client.request(ClassifyDocument, { model, texts: ['hi'], ...extra }));
      return { code: e.code, message: e.message.replace(model, '<name>') };
    };
    for (const extra of [{}, { version: 9 }, { alias: 'canary' }]) {
      expect(await answer('owners-secret', extra)).toEqual(await answer('never-made', extra));
    }
    // The owner is told what is really missing.
    expect((await graphQLFailure(owner.client.request(ClassifyDocument, { model: 'owners-secret', texts: ['hi'], version: 9 }))).message).toMatch(/has no version 9/);
  });
});

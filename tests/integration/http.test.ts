import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PingJobDocument, PingJobsDocument, RequestPingDocument, ServerInfoDocument } from '../../src/sdk/index.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';
import { graphQLFailure, postRaw, startTestApp, type TestApp } from '../helpers/app.js';

let backend: TestBackend;
let t: TestApp;

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend, { ARENA_BODY_LIMIT_BYTES: '4096' });
});

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

describe('GraphQL over HTTP', () => {
  it('answers a query and says how it is deployed', async () => {
    const { serverInfo } = await t.client.request(ServerInfoDocument);
    expect(serverInfo).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      mode: backend.mode,
      database: backend.env['DATABASE_URL'] ? 'postgres' : 'pglite',
      queue: backend.env['REDIS_URL'] ? 'bullmq' : 'in-process',
    });
  });

  it('runs a ping job through the queue and a worker', async () => {
    const { requestPing } = await t.client.request(RequestPingDocument, { input: { message: '  hello  ' } });
    expect(requestPing.pingJob).toMatchObject({ message: 'hello', status: 'QUEUED', attempts: 0, reply: null });
    const id = requestPing.pingJob.id;
    await expect
      .poll(async () => (await t.client.request(PingJobDocument, { id })).pingJob?.status, { timeout: 15_000 })
      .toBe('SUCCEEDED');
    const { pingJob } = await t.client.request(PingJobDocument, { id });
    expect(pingJob).toMatchObject({ reply: 'pong: hello', attempts: 1, error: null, workerId: expect.any(String) });
    expect(Date.parse(pingJob!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(pingJob!.startedAt!));
  });

  it('pages through ping jobs newest first with cursors and a total count', async () => {
    for (const m of ['p1', 'p2', 'p3']) await t.client.request(RequestPingDocument, { input: { message: m } });
    const first = await t.client.request(PingJobsDocument, { first: 2 });
    const total = first.pingJobs.totalCount;
    expect(total).toBeGreaterThanOrEqual(4);
    expect(first.pingJobs.edges.map((e) => e.node.message)).toEqual(['p3', 'p2']);
    expect(first.pingJobs.pageInfo.hasNextPage).toBe(true);
    const seen = first.pingJobs.edges.map((e) => e.node.id);
    let after = first.pingJobs.pageInfo.endCursor;
    while (after) {
      const page = await t.client.request(PingJobsDocument, { first: 2, after });
      seen.push(...page.pingJobs.edges.map((e) => e.node.id));
      after = page.pingJobs.pageInfo.hasNextPage ? page.pingJobs.pageInfo.endCursor : null;
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('returns null for an unknown job', async () => {
    expect((await t.client.request(PingJobDocument, { id: '00000000-0000-0000-0000-000000000000' })).pingJob).toBeNull();
  });
});

describe('bad input gets a clear error and leaves nothing behind', () => {
  it.each([
    [{ message: '   ' }, /message must not be empty/, 'message'],
    [{ message: 'x'.repeat(1001) }, /1001 characters; the limit is 1000/, 'message'],
    [{ message: 'ok', delayMs: 60_001 }, /delayMs must be a whole number from 0 to 60000/, 'delayMs'],
    [{ message: 'ok', delayMs: -1 }, /delayMs must be a whole number/, 'delayMs'],
  ])('requestPing(%j)', async (input, message, field) => {
    const before = (await t.client.request(PingJobsDocument, { first: 1 })).pingJobs.totalCount;
    const error = await graphQLFailure(t.client.request(RequestPingDocument, { input }));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(message);
    expect(error.errors[0]?.extensions?.['field']).toBe(field);
    expect((await t.client.request(PingJobsDocument, { first: 1 })).pingJobs.totalCount).toBe(before);
  });

  it('rejects a cursor it did not issue and a page size out of range', async () => {
    expect((await graphQLFailure(t.client.request(PingJobsDocument, { after: 'nonsense' }))).code).toBe('BAD_USER_INPUT');
    expect((await graphQLFailure(t.client.request(PingJobsDocument, { first: 1000 }))).message).toMatch(/first must be from 1 to 100/);
  });

  it('malformed JSON: 400 with BAD_REQUEST', async () => {
    const r = await postRaw(t.url, '{"query": "{ serverInfo { version } ');
    expect(r.status).toBe(400);
    expect(r.json?.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(r.json?.errors?.[0]?.message).toMatch(/not valid JSON/);
  });

  it('a JSON body that is not a GraphQL request: 400', async () => {
    const r = await postRaw(t.url, JSON.stringify({ hello: 'world' }));
    expect(r.status).toBe(400);
    expect(r.json?.errors?.[0]?.message).toMatch(/query/);
  });

  it('a syntax error: 400 with GRAPHQL_PARSE_FAILED', async () => {
    const r = await postRaw(t.url, JSON.stringify({ query: '{ serverInfo { ' }));
    expect(r.status).toBe(400);
    expect(r.json?.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('an unknown field: 400 with GRAPHQL_VALIDATION_FAILED', async () => {
    const r = await postRaw(t.url, JSON.stringify({ query: '{ nope }' }));
    expect(r.status).toBe(400);
    expect(r.json?.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('an unknown operation name: 400', async () => {
    const r = await postRaw(t.url, JSON.stringify({ query: 'query A { serverInfo { version } }', operationName: 'B' }));
    expect(r.status).toBe(400);
    expect(r.json?.errors?.[0]?.message).toMatch(/Unknown operation named "B"/);
  });

  it('a body over the limit: 413 naming the limit', async () => {
    const r = await postRaw(t.url, JSON.stringify({ query: `{ serverInfo { version } } # ${'x'.repeat(5000)}` }));
    expect(r.status).toBe(413);
    expect(r.json?.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(r.json?.errors?.[0]?.message).toMatch(/4096 bytes \(ARENA_BODY_LIMIT_BYTES\)/);
  });

  it('batched requests are off', async () => {
    const r = await postRaw(t.url, JSON.stringify([{ query: '{ serverInfo { version } }' }, { query: '{ serverInfo { version } }' }]));
    expect(r.status).toBe(400);
  });

  it('CSRF prevention blocks a simple cross-site request', async () => {
    const r = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ serverInfo { version } }')}`, { headers: { accept: 'application/json' } });
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/CSRF/);
  });

  it('unknown paths: 404 in the same error shape', async () => {
    const r = await fetch(`${t.url}/nowhere`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('keeps serving after all of that', async () => {
    expect((await t.client.request(ServerInfoDocument)).serverInfo.version).toBeTruthy();
  });
});

describe('operational endpoints', () => {
  it('/health is live', async () => {
    const r = await fetch(`${t.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  it('/ready is ready once migrations are applied and backends answer', async () => {
    const r = await fetch(`${t.url}/ready`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready' });
  });

  it('/metrics speaks Prometheus text with HTTP, GraphQL, WebSocket, queue and process metrics', async () => {
    await t.client.request(ServerInfoDocument);
    const r = await fetch(`${t.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await r.text();
    expect(text).toMatch(/arena_http_request_duration_seconds_count\{route="\/graphql",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/arena_graphql_operation_duration_seconds_count\{operation="ServerInfo",type="query",transport="http",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/arena_graphql_operation_duration_seconds_count\{operation="RequestPing",type="mutation",transport="http",outcome="error"\} [1-9]/);
    expect(text).toMatch(/^arena_websockets_open \d+$/m);
    expect(text).toMatch(/^arena_graphql_subscriptions_active \d+$/m);
    expect(text).toMatch(/^arena_queue_jobs\{queue="ping",state="waiting"\} \d+$/m);
    expect(text).toMatch(/^arena_process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^arena_nodejs_eventloop_lag_seconds /m);
  });

  it('echoes a sane x-request-id and makes one up otherwise', async () => {
    const given = await fetch(`${t.url}/health`, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await fetch(`${t.url}/health`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('GraphiQL', () => {
  it('is served with its own assets, nothing from a CDN', async () => {
    const page = await fetch(`${t.url}/graphiql`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="graphiql">');
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.filter((s) => !s.startsWith("data:")).length).toBe(5);
    for (const src of sources.filter((s) => !s.startsWith("data:"))) {
      expect(src.startsWith('/graphiql/assets/')).toBe(true);
      const asset = await fetch(new URL(src, t.url));
      expect(asset.status, src).toBe(200);
      expect(Number(asset.headers.get('content-length') ?? (await asset.arrayBuffer()).byteLength)).toBeGreaterThan(1000);
    }
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
  });

  it('opens when a browser navigates to /graphql', async () => {
    const r = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('GraphiQL');
  });

  it('404s an unknown asset', async () => {
    expect((await fetch(`${t.url}/graphiql/assets/evil.js`)).status).toBe(404);
  });
});

describe('subscriptions over HTTP', () => {
  it('are refused with a pointer to the WebSocket endpoint', async () => {
    const r = await postRaw(t.url, JSON.stringify({ query: 'subscription { pingJobUpdated(id: "x") { id } }' }));
    expect(r.status).toBe(400);
    expect(r.json?.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(r.json?.errors?.[0]?.message).toMatch(/WebSocket \(graphql-transport-ws\) at \/graphql/);
  });
});

describe('introspection', () => {
  it('answers the introspection query GraphiQL sends', async () => {
    const r = await postRaw(t.url, JSON.stringify({ query: getIntrospectionQuery() }));
    expect(r.status).toBe(200);
    const schema = buildClientSchema(r.json!.data as IntrospectionQuery);
    expect(schema.getType('PingJob')).toBeDefined();
    expect(Object.keys(schema.getSubscriptionType()!.getFields())).toContain('pingJobUpdated');
  });

  it('is off in production, and errors there carry no stack trace', async () => {
    const prodBackend = await createTestBackend();
    const prod = await startTestApp(prodBackend, { NODE_ENV: 'production' }, { worker: undefined });
    try {
      const introspection = await postRaw(prod.url, JSON.stringify({ query: getIntrospectionQuery() }));
      expect(introspection.status).toBe(400);
      expect(introspection.json?.errors?.[0]?.message).toMatch(/introspection is not allowed/i);
      const bad = await postRaw(prod.url, JSON.stringify({ query: '{ pingJobs(first: 0) { totalCount } }' }));
      expect(bad.json?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(bad.text).not.toMatch(/stacktrace/);
    } finally {
      await prod.close();
      await prodBackend.cleanup();
    }
  });
});

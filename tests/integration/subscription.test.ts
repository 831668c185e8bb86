import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ArenaGraphQLError, PingJobUpdatedDocument, RequestPingDocument, createArenaClient, type PingJobFieldsFragment } from '../../src/sdk/index.js';
import { collectUntil, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';

let backend: TestBackend;
let t: TestApp;

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend, { ARENA_WS_INIT_TIMEOUT_MS: '300' });
});

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

const ORDER = ['QUEUED', 'RUNNING', 'SUCCEEDED'];
const done = (e: { pingJobUpdated: PingJobFieldsFragment }) => e.pingJobUpdated.status === 'SUCCEEDED' || e.pingJobUpdated.status === 'FAILED';

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

describe('GraphQL over WebSocket (graphql-transport-ws)', () => {
  it('streams a ping job from its current state to its result, then completes', async () => {
    const { requestPing } = await t.client.request(RequestPingDocument, { input: { message: 'live', delayMs: 400 } });
    const events = await collectUntil(t.client.subscribe(PingJobUpdatedDocument, { id: requestPing.pingJob.id }), done);
    const statuses = events.map((e) => e.pingJobUpdated.status);
    expect(statuses.at(-1)).toBe('SUCCEEDED');
    // In order, never backwards (the current state may repeat once as it is read and published).
    const ranks = statuses.map((s) => ORDER.indexOf(s));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(statuses).toContain('RUNNING');
    expect(events.at(-1)!.pingJobUpdated).toMatchObject({ id: requestPing.pingJob.id, reply: 'pong: live', attempts: 1 });
  });

  it('ends the subscription by itself once the job has finished', async () => {
    const { requestPing } = await t.client.request(RequestPingDocument, { input: { message: 'ends' } });
    const iterator = t.client.subscribe(PingJobUpdatedDocument, { id: requestPing.pingJob.id });
    const seen: string[] = [];
    for await (const event of { [Symbol.asyncIterator]: () => iterator }) seen.push(event.pingJobUpdated.status);
    expect(seen.at(-1)).toBe('SUCCEEDED');
  });

  it('gives a late subscriber the final state at once', async () => {
    const { requestPing } = await t.client.request(RequestPingDocument, { input: { message: 'early' } });
    await collectUntil(t.client.subscribe(PingJobUpdatedDocument, { id: requestPing.pingJob.id }), done);
    const late = await collectUntil(t.client.subscribe(PingJobUpdatedDocument, { id: requestPing.pingJob.id }), () => false, 5_000);
    expect(late.map((e) => e.pingJobUpdated.status)).toEqual(['SUCCEEDED']);
  });

  it('several subscribers each get the result', async () => {
    const { requestPing } = await t.client.request(RequestPingDocument, { input: { message: 'fan-out', delayMs: 300 } });
    const clients = [0, 1, 2].map(() => createArenaClient({ url: t.url, webSocketImpl: WebSocket, token: t.token }));
    try {
      const results = await Promise.all(clients.map((c) => collectUntil(c.subscribe(PingJobUpdatedDocument, { id: requestPing.pingJob.id }), done)));
      for (const events of results) expect(events.at(-1)!.pingJobUpdated.reply).toBe('pong: fan-out');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('refuses an unknown job with NOT_FOUND', async () => {
    const error = await collectUntil(t.client.subscribe(PingJobUpdatedDocument, { id: 'f0000000-0000-0000-0000-000000000000' }), () => true).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArenaGraphQLError);
    expect((error as ArenaGraphQLError).code).toBe('NOT_FOUND');
    expect((error as ArenaGraphQLError).message).toMatch(/No ping job with id f0000000/);
  });

  it('counts open sockets and active subscriptions, back to zero when clients leave', async () => {
    const client = createArenaClient({ url: t.url, webSocketImpl: WebSocket, token: t.token });
    const { requestPing } = await t.client.request(RequestPingDocument, { input: { message: 'gauge', delayMs: 30_000 } });
    const iterator = client.subscribe(PingJobUpdatedDocument, { id: requestPing.pingJob.id });
    await iterator.next();
    await expect.poll(() => metric('arena_graphql_subscriptions_active')).toBeGreaterThanOrEqual(1);
    await expect.poll(() => metric('arena_websockets_open')).toBeGreaterThanOrEqual(1);
    await client.close(); // drops the socket mid-subscription
    await t.client.close(); // the shared client's lazy socket too
    await expect.poll(() => metric('arena_graphql_subscriptions_active')).toBe(0);
    await expect.poll(() => metric('arena_websockets_open')).toBe(0);
  });
});

describe('WebSocket protocol errors close the socket with the protocol’s code', () => {
  function open(protocol = 'graphql-transport-ws') {
    const socket = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, protocol);
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    const opened = new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return { socket, closed, opened };
  }

  it('4408 when connection_init never comes', async () => {
    const { closed } = open();
    expect(await closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('4400 for a message that is not JSON', async () => {
    const { socket, closed, opened } = open();
    await opened;
    socket.send('{not json');
    expect((await closed).code).toBe(4400);
  });

  it('4401 for a subscribe before connection_ack', async () => {
    const { socket, closed, opened } = open();
    await opened;
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ serverInfo { version } }' } }));
    expect((await closed).code).toBe(4401);
  });

  it('still serves after all of that', async () => {
    const { socket, opened, closed } = open();
    await opened;
    const acked = new Promise<unknown>((resolve) => socket.once('message', (data) => resolve(JSON.parse(data.toString()))));
    socket.send(JSON.stringify({ type: 'connection_init', payload: t.auth }));
    expect(await acked).toEqual({ type: 'connection_ack' });
    socket.close(1000);
    expect((await closed).code).toBe(1000);
  });
});

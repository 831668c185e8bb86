import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PingJob } from '../../src/entities/index.js';
import { PingJobDocument, RequestPingDocument } from '../../src/sdk/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';

let backend: TestBackend;
const apps: TestApp[] = [];

beforeEach(async () => {
  backend = await createTestBackend();
});

afterEach(async () => {
  while (apps.length > 0) await apps.pop()!.close();
  await backend.cleanup();
});

async function start(env: Record<string, string> = {}, options: Parameters<typeof startTestApp>[2] = {}) {
  const t = await startTestApp(backend, env, options);
  apps.push(t);
  return t;
}

async function stop(t: TestApp) {
  apps.splice(apps.indexOf(t), 1);
  await t.close();
}

const statusOf = async (t: TestApp, id: string) => (await t.client.request(PingJobDocument, { id })).pingJob;

describe('data and jobs survive restarts', () => {
  it('a restart keeps the data', async () => {
    const first = await start();
    const { requestPing } = await first.client.request(RequestPingDocument, { input: { message: 'persist me' } });
    await expect.poll(async () => (await statusOf(first, requestPing.pingJob.id))?.status, { timeout: 15_000 }).toBe('SUCCEEDED');
    await stop(first);

    const second = await start();
    expect(await statusOf(second, requestPing.pingJob.id)).toMatchObject({ message: 'persist me', status: 'SUCCEEDED', reply: 'pong: persist me' });
  });

  it('a shutdown lets a running job finish within the grace period', async () => {
    const t = await start({ ARENA_SHUTDOWN_GRACE_MS: '10000' });
    const { requestPing } = await t.client.request(RequestPingDocument, { input: { message: 'finish me', delayMs: 800 } });
    const id = requestPing.pingJob.id;
    await expect.poll(async () => (await statusOf(t, id))?.status, { timeout: 15_000, interval: 20 }).toBe('RUNNING');
    await stop(t);

    const after = await start({}, { worker: undefined });
    expect(await statusOf(after, id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('a job outliving the grace period is handed back and finished after the restart', async () => {
    const t = await start({ ARENA_SHUTDOWN_GRACE_MS: '100' });
    const { requestPing } = await t.client.request(RequestPingDocument, { input: { message: 'hand me back', delayMs: 3000 } });
    const id = requestPing.pingJob.id;
    await expect.poll(async () => (await statusOf(t, id))?.status, { timeout: 15_000, interval: 20 }).toBe('RUNNING');
    await stop(t);

    const api = await start({}, { worker: undefined });
    expect(await statusOf(api, id)).toMatchObject({ status: 'QUEUED', attempts: 1, workerId: null });
    await stop(api);

    const resumed = await start();
    await expect.poll(async () => (await statusOf(resumed, id))?.status, { timeout: 20_000 }).toBe('SUCCEEDED');
    expect(await statusOf(resumed, id)).toMatchObject({ attempts: 2, reply: 'pong: hand me back' });
  });
});

describe('the reconciler repairs what a crash leaves behind', () => {
  it('re-dispatches a row committed QUEUED whose enqueue never happened', async () => {
    const t = await start();
    const em = t.app.runtime.db.fork();
    const row = em.create(PingJob, { message: 'orphan' });
    await em.flush(); // committed, never enqueued: a crash between commit and enqueue
    const report = await t.app.runtime.services.reconciler.reconcile({ queuedGraceMs: 0 });
    expect(report.redispatched).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => (await statusOf(t, row.id))?.status, { timeout: 15_000 }).toBe('SUCCEEDED');
  });

  it('requeues a RUNNING row whose worker went silent, and it runs again', async () => {
    const t = await start();
    const em = t.app.runtime.db.fork();
    const long = new Date(Date.now() - 5 * 60_000);
    const row = em.create(PingJob, { message: 'lost worker', status: 'RUNNING', attempts: 1, workerId: 'dead:1:x', heartbeatAt: long, startedAt: long, updatedAt: long });
    await em.flush();
    const report = await t.app.runtime.services.reconciler.reconcile();
    expect(report.requeued).toBe(1);
    await expect.poll(async () => (await statusOf(t, row.id))?.status, { timeout: 15_000 }).toBe('SUCCEEDED');
    expect(await statusOf(t, row.id)).toMatchObject({ attempts: 2, error: null });
  });

  it('fails a RUNNING row on its last attempt with the reason', async () => {
    const t = await start({ ARENA_JOB_MAX_ATTEMPTS: '2' });
    const em = t.app.runtime.db.fork();
    const long = new Date(Date.now() - 5 * 60_000);
    const row = em.create(PingJob, { message: 'give up', status: 'RUNNING', attempts: 2, workerId: 'dead:1:x', heartbeatAt: long, updatedAt: long });
    await em.flush();
    expect((await t.app.runtime.services.reconciler.reconcile()).failed).toBe(1);
    expect(await statusOf(t, row.id)).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/^worker lost: no heartbeat for 300 s; gave up after 2 attempts$/) });
    // A second reconciler finds nothing left to do.
    expect(await t.app.runtime.services.reconciler.reconcile()).toEqual({ redispatched: 0, requeued: 0, failed: 0 });
  });
});

describe.runIf(Boolean(process.env['DATABASE_URL'] && process.env['REDIS_URL']))('scaled mode: API and worker as separate processes', () => {
  it('a job enqueued by an API-only process runs on a worker-only process', async () => {
    const api = await start({}, { worker: undefined });
    const worker = await start({}, { api: false, worker: { queues: ['ping'], concurrency: 2 } });
    const { requestPing } = await api.client.request(RequestPingDocument, { input: { message: 'across processes' } });
    await expect.poll(async () => (await statusOf(api, requestPing.pingJob.id))?.status, { timeout: 15_000 }).toBe('SUCCEEDED');
    expect((await statusOf(api, requestPing.pingJob.id))?.workerId).toBe(worker.app.runtime.workerId);
  });
});

describe('shutdown and readiness, as clients see them', () => {
  it('closes open WebSockets with 1001 (going away) on shutdown', async () => {
    const t = await start({}, { worker: undefined }); // the job stays QUEUED, the subscription open
    const { requestPing } = await t.client.request(RequestPingDocument, { input: { message: 'long', delayMs: 60_000 } });
    const socket = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => socket.once('open', () => resolve()));
    const acked = new Promise<void>((resolve) => socket.once('message', () => resolve()));
    socket.send(JSON.stringify({ type: 'connection_init', payload: t.auth }));
    await acked;
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription { pingJobUpdated(id: "${requestPing.pingJob.id}") { status } }` } }));
    await stop(t);
    expect(await closed).toBe(1001);
  });

  it('/ready answers 503 with the reason when the database does not', async () => {
    const t = await start();
    expect((await fetch(`${t.url}/ready`)).status).toBe(200);
    await t.app.runtime.db.orm.close(true);
    const r = await fetch(`${t.url}/ready`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: 'unavailable', reasons: [expect.stringMatching(/^database unreachable: /)] });
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });
});

import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DatasetDocument, LoginDocument, MeDocument, PingJobDocument, RedeemSignInLinkDocument, RequestPingDocument, createArenaClient } from '../../src/sdk/index.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';
import { runArena, spawnArena, waitForListening } from '../helpers/cli.js';

let backend: TestBackend;

beforeEach(async () => {
  backend = await createTestBackend();
});

afterEach(async () => {
  await backend.cleanup();
});

// Each test spawns whole platform processes through tsx; a fresh embedded database alone takes
// seconds to create, more on a loaded machine.
describe('arena CLI', { timeout: 90_000 }, () => {
  it('stops at start-up on a bad configuration, naming each variable and what it allows', async () => {
    const { code, output } = await runArena(['start'], { ...backend.env, PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect(code).toBe(2);
    expect(output).toMatch(/Invalid configuration:/);
    expect(output).toMatch(/PORT="eighty": .*number/);
    expect(output).toMatch(/LOG_LEVEL="loud": .*"info"/);
  });

  it.each([['serve'], ['worker']])('arena %s refuses the embedded defaults with a way forward', async (command) => {
    const { code, output } = await runArena([command], { ARENA_DATA_DIR: backend.env['ARENA_DATA_DIR']! });
    expect(code).toBe(2);
    expect(output).toMatch(new RegExp(`arena ${command} .* needs DATABASE_URL and REDIS_URL`));
    expect(output).toMatch(/run `arena start`/);
  });

  it('arena worker rejects an unknown queue', async () => {
    const { code, output } = await runArena(['worker', '--queues', 'ping,nope'], backend.env);
    expect(code).not.toBe(0);
    expect(output).toMatch(/unknown queue\(s\) nope; known: ping/);
  });

  it('arena migrate applies the migrations once', async () => {
    const first = await runArena(['migrate'], backend.env);
    expect(first).toMatchObject({ code: 0 });
    expect(first.output).toMatch(/Applied \d+ migration\(s\): Migration\d+Initial, /);
    const again = await runArena(['migrate'], backend.env);
    expect(again).toMatchObject({ code: 0 });
    expect(again.output).toMatch(/Database is up to date\./);
  });

  it('SIGTERM during a running job: exit 0 and nothing lost', async () => {
    const env = { ...backend.env, PORT: '0', LOG_LEVEL: 'info' };
    const server = spawnArena(['start'], env);
    const url = await waitForListening(server);
    // First contact: the first start prints a one-time sign-in link; redeeming it signs in as the new admin.
    await expect.poll(() => server.output()).toMatch(/"signInLink"/);
    const link = /"signInLink":"([^"]+)"/.exec(server.output())?.[1];
    expect(link).toMatch(/\/graphiql#signin=/);
    const anonymous = createArenaClient({ url });
    const { redeemSignInLink } = await anonymous.request(RedeemSignInLinkDocument, { input: { token: new URL(link!).hash.slice('#signin='.length) } });
    expect(redeemSignInLink.user).toMatchObject({ email: 'admin@localhost', role: 'admin' });
    const token = redeemSignInLink.accessToken;
    const client = createArenaClient({ url, webSocketImpl: WebSocket, token });
    const { requestPing } = await client.request(RequestPingDocument, { input: { message: 'mid-flight', delayMs: 1500 } });
    const id = requestPing.pingJob.id;
    await expect.poll(async () => (await client.request(PingJobDocument, { id })).pingJob?.status, { interval: 20 }).toBe('RUNNING');
    await client.close();
    server.kill('SIGTERM');
    const [code] = await once(server, 'exit');
    expect(code).toBe(0);
    expect(server.output()).toMatch(/"msg":"stopped"/);

    const again = spawnArena(['start'], env);
    try {
      // The signing key lives in the database: a token from before the restart still works.
      const client2 = createArenaClient({ url: await waitForListening(again), token });
      expect(again.output()).not.toMatch(/signInLink/);
      expect((await client2.request(PingJobDocument, { id })).pingJob).toMatchObject({ status: 'SUCCEEDED', reply: 'pong: mid-flight', attempts: 1 });
    } finally {
      again.kill('SIGTERM');
      await once(again, 'exit');
    }
  });

  it('arena users create / token / link give scripts and CI a signed-in identity', async () => {
    const created = await runArena(['users', 'create', '--email', 'Ops@Example.com', '--role', 'viewer'], backend.env);
    expect(created.code, created.output).toBe(0);
    expect(created.output).toMatch(/Created viewer ops@example\.com/);
    const password = /Password \(shown once\): (\S+)/.exec(created.output)?.[1];
    expect(password).toBeTruthy();
    const duplicate = await runArena(['users', 'create', '--email', 'ops@example.com'], backend.env);
    expect(duplicate.code).toBe(2);
    expect(duplicate.output).toMatch(/CONFLICT: A user with email ops@example.com already exists/);
    const badRole = await runArena(['users', 'create', '--email', 'x@example.com', '--role', 'root'], backend.env);
    expect(badRole.code).not.toBe(0);
    expect(badRole.output).toMatch(/must be one of admin, user, viewer/);

    const issued = await runArena(['users', 'token', '--email', 'ops@example.com'], backend.env);
    expect(issued.code, issued.output).toBe(0);
    const token = issued.output.trim().split('\n').pop()!;
    const unknown = await runArena(['users', 'token', '--email', 'nobody@example.com'], backend.env);
    expect(unknown.code).toBe(2);
    expect(unknown.output).toMatch(/No user with email nobody@example.com/);

    const server = spawnArena(['start'], { ...backend.env, PORT: '0', LOG_LEVEL: 'info' });
    try {
      const url = await waitForListening(server);
      const me = await createArenaClient({ url, token }).request(MeDocument, {});
      expect(me.me).toMatchObject({ email: 'ops@example.com', role: 'viewer' });
      const login = await createArenaClient({ url }).request(LoginDocument, { input: { email: 'ops@example.com', password: password! } });
      expect(login.login.user.role).toBe('viewer');
    } finally {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    const link = await runArena(['users', 'link', '--email', 'ops@example.com', '--url', 'https://arena.example.com/'], backend.env);
    expect(link.output.trim()).toMatch(/^https:\/\/arena\.example\.com\/graphiql#signin=[\w-]{43}$/m);
  });

  it('arena datasets import spam-assassin makes a dataset version of the public corpus in one command', async () => {
    const started = performance.now();
    const first = await runArena(['datasets', 'import', 'spam-assassin'], backend.env);
    const seconds = (performance.now() - started) / 1000;
    expect(first.code, first.output).toBe(0);
    const summary = /Imported (\d+) examples from 6046 e-mails \((\d+) duplicates dropped\) in ([\d.]+) s: (\d+) ham, (\d+) spam; (\d+) train, (\d+) test\./.exec(first.output);
    expect(summary, first.output).not.toBeNull();
    const [rows, duplicates, , ham, spam, train, test] = summary!.slice(1).map(Number) as number[];
    expect(rows! + duplicates!).toBe(6046);
    expect(ham! + spam!).toBe(rows);
    expect(train! + test!).toBe(rows);
    expect(spam! / rows!).toBeGreaterThan(0.25);
    expect(test! / rows!).toBeGreaterThan(0.17);
    expect(test! / rows!).toBeLessThan(0.23);
    const ids = /dataset spam-assassin \(id ([0-9a-f-]{36})\) version 1 \(id ([0-9a-f-]{36})\)/.exec(first.output);
    expect(ids, first.output).not.toBeNull();
    // The whole command (a process through tsx, migrations, 6,046 e-mails) stays well under a minute.
    console.log(`arena datasets import spam-assassin: ${seconds.toFixed(1)} s wall, import itself ${summary![3]} s`);
    expect(seconds).toBeLessThan(60);

    const server = spawnArena(['start'], { ...backend.env, PORT: '0', LOG_LEVEL: 'info' });
    try {
      const url = await waitForListening(server);
      if (!process.env['DATABASE_URL']) {
        // The embedded data directory belongs to the running server: a second import is refused.
        const refused = await runArena(['datasets', 'import', 'spam-assassin'], backend.env);
        expect(refused.code).toBe(1);
        expect(refused.output).toMatch(/is in use by another arena process \(pid \d+\)/);
      }
      await expect.poll(() => server.output()).toMatch(/"signInLink"/);
      const link = /"signInLink":"([^"]+)"/.exec(server.output())![1]!;
      const { redeemSignInLink } = await createArenaClient({ url }).request(RedeemSignInLinkDocument, { input: { token: new URL(link).hash.slice('#signin='.length) } });
      const client = createArenaClient({ url, token: redeemSignInLink.accessToken });
      const { dataset } = await client.request(DatasetDocument, { id: ids![1]! });
      expect(dataset).toMatchObject({ name: 'spam-assassin', labels: ['ham', 'spam'], owner: null, visibility: 'SHARED' });
      expect(dataset!.versions[0]).toMatchObject({ id: ids![2], version: 1, rowCount: rows, changes: { source: 'IMPORT' } });
      expect(dataset!.versions[0]!.validation.classDistribution.map((c) => c.count)).toEqual([ham, spam]);
      const csv = await fetch(`${url}${dataset!.versions[0]!.jsonlUrl}`, { headers: { authorization: `Bearer ${redeemSignInLink.accessToken}` } });
      expect((await csv.text()).trimEnd().split('\n')).toHaveLength(rows!);
    } finally {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
  });

  it.runIf(!process.env['DATABASE_URL'])('a second process on the same embedded data directory is refused', async () => {
    const env = { ...backend.env, PORT: '0', LOG_LEVEL: 'info' };
    const server = spawnArena(['start'], env);
    try {
      await waitForListening(server);
      const second = await runArena(['migrate'], env);
      expect(second.code).toBe(1);
      expect(second.output).toMatch(/is in use by another arena process \(pid \d+\)/);
    } finally {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
  });
});

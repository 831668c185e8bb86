import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { QUEUE_NAMES } from '../../src/queue/index.js';
import {
  BattleDocument,
  BattleRoundCompletedDocument,
  BattleUpdatedDocument,
  CancelBattleDocument,
  CreateBattleDocument,
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  StartTrainingRunDocument,
  TrainingRunUpdatedDocument,
  UpdateUserDocument,
  type BattleRoundFieldsFragment,
} from '../../src/sdk/index.js';
import { collectUntil, graphQLFailure, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';

/**
 * battleRoundCompleted goes through the WebSocket fan-out (src/server/ws-fanout.ts): one
 * execution and serialization per event for every subscriber, coalesced for slow readers. These
 * check, through the socket, that subscribers still get complete and correct data, each with
 * its own query's shape, and that authorization and errors stay per subscriber.
 */
let backend: TestBackend;
let t: TestApp;

function corpus(n: number): string {
  const spam = ['win free money now', 'claim your cash prize today', 'cheap pills online now', 'you won the lottery'];
  const ham = ['meeting moved to three', 'lunch at noon tomorrow', 'see the agenda attached', 'can you review my patch'];
  const rows = ['text,label'];
  for (let i = 0; i < n; i++) rows.push(`"${(i % 2 ? ham : spam)[i % 4]!} ${i}",${i % 2 ? 'ham' : 'spam'}`);
  return `${rows.join('\n')}\n`;
}

const over = (status: string) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status);
const SEEDS = ['win free money now offer', 'claim your cash prize today', 'cheap pills online now'];

beforeAll(async () => {
  backend = await createTestBackend();
  // One battle at a time: a long battle queued first holds the worker while subscriptions open.
  t = await startTestApp(backend, {}, { worker: { queues: QUEUE_NAMES, concurrency: 1 } });
  await t.client.request(CreateModelDocument, { input: { name: 'fan', labels: ['ham', 'spam'] } });
  await t.client.request(CreateDatasetDocument, { input: { name: 'fan-data', labels: ['ham', 'spam'] } });
  const { createDatasetVersion } = await t.client.request(CreateDatasetVersionDocument, { input: { dataset: 'fan-data', file: new File([corpus(200)], 'fan.csv') } });
  const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, {
    input: { model: 'fan', datasetVersionId: createDatasetVersion.version.id, hyperparameters: { epochs: 3, dim: 8, seed: 1 }, featurizerSpec: { buckets: 4096 } },
  });
  const events = await collectUntil(t.client.subscribe(TrainingRunUpdatedDocument, { id: startTrainingRun.trainingRun.id }), (e) => over(e.trainingRunUpdated.status), 60_000);
  expect(events.at(-1)!.trainingRunUpdated.status).toBe('SUCCEEDED');
}, 90_000);

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

/** A raw graphql-transport-ws connection: every message as received, and `pause()` to stop reading. */
async function rawSubscriber(token: string, query: string, variables: Record<string, unknown>) {
  const socket = new WebSocket(`${t.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const messages: { type: string; id?: string; payload?: unknown }[] = [];
  let onMessage = () => {};
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(JSON.parse(data.toString()));
    onMessage();
  });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  const until = (done: () => boolean, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${messages.length} messages`)), timeoutMs);
      onMessage = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        }
      };
      onMessage();
    });
  await until(() => messages.some((m) => m.type === 'connection_ack'));
  socket.send(JSON.stringify({ id: 'a', type: 'subscribe', payload: { query, variables } }));
  return { socket, messages, until };
}

async function subscriptionsLive(n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    if (Number(/^arena_graphql_subscriptions_active (\S+)$/m.exec(text)?.[1] ?? 0) >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`fewer than ${n} live subscriptions`);
}

describe('battle round fan-out', () => {
  it('gives every subscriber every round, as stored, in the shape its own query asked for', { timeout: 60_000 }, async () => {
    // A battle queued behind a long one, so every subscription is live before its first round.
    const blocker = (await t.client.request(CreateBattleDocument, { input: { model: 'fan', rounds: 1_000_000, seedTexts: SEEDS, autoRetrain: false } })).createBattle.battle;
    const rounds = 700;
    const battle = (await t.client.request(CreateBattleDocument, { input: { model: 'fan', rounds, seedTexts: SEEDS, autoRetrain: false, seed: 3, strategies: ['leetspeak', 'homoglyphs'] } })).createBattle.battle;
    const sdk = Array.from({ length: 8 }, () => collectUntil(t.client.subscribe(BattleRoundCompletedDocument, { battleId: battle.id }), () => false, 50_000));
    const aliased = await rawSubscriber(t.token, 'subscription($id: ID!) { r: battleRoundCompleted(battleId: $id) { __typename got: rounds { i: index detected } battleId } }', { id: battle.id });
    await subscriptionsLive(9);
    await t.client.request(CancelBattleDocument, { input: { id: blocker.id } });
    const end = await collectUntil(t.client.subscribe(BattleUpdatedDocument, { battleId: battle.id }), (e) => over(e.battleUpdated.status), 50_000);
    expect(end.at(-1)!.battleUpdated).toMatchObject({ status: 'SUCCEEDED', roundsDone: rounds });

    const stored: BattleRoundFieldsFragment[] = [];
    let after: string | null | undefined;
    do {
      const page = (await t.client.request(BattleDocument, { id: battle.id, first: 100, after })).battle!.rounds;
      stored.push(...page.nodes);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(stored).toHaveLength(rounds);
    for (const events of await Promise.all(sdk)) {
      expect(events.every((e) => e.battleRoundCompleted.battleId === battle.id)).toBe(true);
      expect(events.flatMap((e) => e.battleRoundCompleted.rounds)).toEqual(stored);
    }
    await aliased.until(() => aliased.messages.some((m) => m.type === 'complete'));
    const nexts = aliased.messages.filter((m) => m.type === 'next') as { id: string; payload: { data: { r: { __typename: string; got: { i: number; detected: boolean }[]; battleId: string } } } }[];
    expect(nexts.every((m) => m.id === 'a' && m.payload.data.r.__typename === 'BattleRoundsEvent' && m.payload.data.r.battleId === battle.id)).toBe(true);
    expect(Object.keys(nexts[0]!.payload.data.r)).toEqual(['__typename', 'got', 'battleId']);
    expect(nexts.flatMap((m) => m.payload.data.r.got)).toEqual(stored.map((r) => ({ i: r.index, detected: r.detected })));
    aliased.socket.close();
  });

  it('coalesces what a reader that stopped reading missed into fewer messages, losing nothing', { timeout: 60_000 }, async () => {
    const blocker = (await t.client.request(CreateBattleDocument, { input: { model: 'fan', rounds: 1_000_000, seedTexts: SEEDS, autoRetrain: false } })).createBattle.battle;
    const slow = await rawSubscriber(t.token, 'subscription($id: ID!) { battleRoundCompleted(battleId: $id) { battleId rounds { index variant } } }', { id: blocker.id });
    const quick = await rawSubscriber(t.token, 'subscription($id: ID!) { battleRoundCompleted(battleId: $id) { battleId rounds { index variant } } }', { id: blocker.id });
    await subscriptionsLive(2);
    slow.socket.pause();
    // Published the way the battle worker publishes a stored batch, but big: 300 x 64 KB is far
    // more than the socket buffers hold, so the server must wait for the reader and merge.
    const big = 'x'.repeat(64 * 1024);
    const topic = `battle.${blocker.id}.rounds`;
    // The worker plays the blocker meanwhile; its own batches are interleaved: take only ours.
    const ours = (m: { payload?: unknown }) => ((m.payload as { data: { battleRoundCompleted: { rounds: { index: number; variant: string }[] } } }).data.battleRoundCompleted.rounds).filter((r) => r.index < 0);
    for (let i = 0; i < 300; i++) {
      await t.app.runtime.events.publish(topic, { battleId: blocker.id, rounds: [{ battleId: blocker.id, index: -1 - i, seedIndex: 0, split: 'test', original: 'o', variant: `${i}:${big}`, strategy: 'leetspeak', score: 0.5, detected: false, queries: 1, latencyMs: 0 }] });
    }
    const count = (s: typeof slow) => s.messages.filter((m) => m.type === 'next').flatMap(ours).length;
    await quick.until(() => count(quick) === 300);
    slow.socket.resume();
    await slow.until(() => count(slow) === 300);
    const mine = (s: typeof slow) => s.messages.filter((m) => m.type === 'next' && ours(m).length > 0);
    const order = (s: typeof slow) => mine(s).flatMap(ours).map((r) => Number(r.variant.split(':')[0]));
    expect(order(slow)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(order(quick)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(mine(slow).length).toBeLessThan(300);
    expect(Math.max(...mine(slow).map((m) => ours(m).length))).toBeGreaterThan(1);
    expect(ours(mine(slow)[0]!)[0]!.variant).toBe(`0:${big}`);
    slow.socket.close();
    quick.socket.close();
    await t.client.request(CancelBattleDocument, { input: { id: blocker.id } });
  });

  it('keeps authorization and errors per subscriber', { timeout: 60_000 }, async () => {
    const stranger = await t.signIn('user');
    const leaver = await t.signIn('admin');
    const blocker = (await t.client.request(CreateBattleDocument, { input: { model: 'fan', rounds: 1_000_000, seedTexts: SEEDS, autoRetrain: false } })).createBattle.battle;
    const battle = (await t.client.request(CreateBattleDocument, { input: { model: 'fan', rounds: 300, seedTexts: SEEDS, autoRetrain: false, seed: 9 } })).createBattle.battle;
    // Someone who may not see the battle is told it does not exist; nobody else notices.
    const refused = await graphQLFailure(collectUntil(stranger.client.subscribe(BattleRoundCompletedDocument, { battleId: battle.id }), () => false));
    expect(refused.code).toBe('NOT_FOUND');
    const unknown = await graphQLFailure(collectUntil(t.client.subscribe(BattleRoundCompletedDocument, { battleId: '00000000-0000-4000-8000-000000000000' }), () => false));
    expect(unknown.code).toBe('NOT_FOUND');
    const owner = collectUntil(t.client.subscribe(BattleRoundCompletedDocument, { battleId: battle.id }), () => false, 50_000);
    const gone = rawSubscriber(leaver.token, 'subscription($id: ID!) { battleRoundCompleted(battleId: $id) { rounds { index } } }', { id: battle.id });
    const left = await gone;
    await subscriptionsLive(2);
    // A disabled account's subscription ends (its socket closes 4403); the others go on.
    const closed = new Promise<number>((resolve) => left.socket.once('close', (code) => resolve(code)));
    await t.client.request(UpdateUserDocument, { input: { id: leaver.user.id, disabled: true } });
    expect(await closed).toBe(4403);
    await t.client.request(CancelBattleDocument, { input: { id: blocker.id } });
    const events = await owner;
    expect(events.flatMap((e) => e.battleRoundCompleted.rounds).map((r) => r.index)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(left.messages.filter((m) => m.type === 'next')).toHaveLength(0);
  });
});

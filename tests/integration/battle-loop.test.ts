/**
 * The loop end to end, as a user drives it: a battle gets through the champion too often, the
 * retrain fires, the challenger wins on the held-out set and takes over, and the rematch falls
 * below the threshold. Against PostgreSQL + Redis the battles and training runs are played by a
 * separate `arena worker` process (the API process runs no worker), so the hand-offs between
 * processes — queues, events, the alias change and the model reload — are what is tested; on the
 * embedded defaults the same loop runs in one process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BattleUpdatedDocument,
  ClassifyDocument,
  CreateBattleDocument,
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  ModelDocument,
  RematchDocument,
  StartTrainingRunDocument,
  TrainingRunDocument,
  TrainingRunUpdatedDocument,
  type BattleFieldsFragment,
} from '../../src/sdk/index.js';
import { collectUntil, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';
import { spawnArena } from '../helpers/cli.js';

const separateWorker = Boolean(process.env['DATABASE_URL'] && process.env['REDIS_URL']);

let backend: TestBackend;
let t: TestApp;
let worker: ReturnType<typeof spawnArena> | undefined;
let datasetVersionId: string;

/** This toy defender lets about a fifth of the leetspeak through: the battle's threshold is set under that. */
const THRESHOLD = 0.15;
const over = (status: string) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status);
const SPAM = ['win free money now', 'claim your cash prize', 'free bonus offer inside', 'cheap pills online', 'you are a lottery winner', 'get rich fast'];
const HAM = ['meeting moved to three', 'lunch at noon tomorrow', 'see the agenda attached', 'can you review my patch', 'the build is green again', 'notes from the standup'];
const LEET: Record<string, string> = { a: '4', e: '3', i: '1', o: '0', s: '5', t: '7' };
const leet = (text: string) => text.replace(/[aeiost]/g, (c) => LEET[c]!);

/**
 * Clean spam and ham to train on; a held-out test split that, like real mail, also has spam in
 * leetspeak. The first champion has never seen it; a challenger trained on evaded variants has.
 */
function corpus(): string {
  const rows: { text: string; label: string; split: string }[] = [];
  for (let i = 0; i < 240; i++) rows.push({ text: `${(i % 2 ? HAM : SPAM)[i % 6]} ${i}`, label: i % 2 ? 'ham' : 'spam', split: 'train' });
  for (let i = 0; i < 60; i++) rows.push({ text: `${(i % 2 ? HAM : SPAM)[(i + 1) % 6]} ${1000 + i}`, label: i % 2 ? 'ham' : 'spam', split: 'test' });
  for (let i = 0; i < 30; i++) rows.push({ text: `${leet(SPAM[i % 6]!)} ${2000 + i}`, label: 'spam', split: 'test' });
  return `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
}

async function untilOver(id: string): Promise<BattleFieldsFragment> {
  const events = await collectUntil(t.client.subscribe(BattleUpdatedDocument, { battleId: id }), (e) => over(e.battleUpdated.status), 90_000);
  return events.at(-1)!.battleUpdated;
}

async function trained(runId: string) {
  const events = await collectUntil(t.client.subscribe(TrainingRunUpdatedDocument, { id: runId }), (e) => over(e.trainingRunUpdated.status), 90_000);
  return events.at(-1)!.trainingRunUpdated;
}

beforeAll(async () => {
  backend = await createTestBackend();
  // With Redis the API process runs no worker: every job must cross to the worker process.
  t = await startTestApp(backend, {}, separateWorker ? { worker: undefined } : {});
  if (separateWorker) {
    worker = spawnArena(['worker', '--queues', 'battle,training', '--concurrency', '2'], { ...backend.env, LOG_LEVEL: 'info' });
    const deadline = Date.now() + 30_000;
    while (!/worker started|consuming/i.test(worker.output()) && Date.now() < deadline) {
      if (worker.exitCode !== null) throw new Error(`arena worker exited with ${worker.exitCode}:\n${worker.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await t.client.request(CreateModelDocument, { input: { name: 'loop', labels: ['ham', 'spam'] } });
  await t.client.request(CreateDatasetDocument, { input: { name: 'loop-data', labels: ['ham', 'spam'] } });
  const { createDatasetVersion } = await t.client.request(CreateDatasetVersionDocument, { input: { dataset: 'loop-data', file: new File([corpus()], 'loop.jsonl') } });
  datasetVersionId = createDatasetVersion.version.id;
  const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, {
    input: { model: 'loop', datasetVersionId, hyperparameters: { epochs: 8, dim: 16, seed: 1 }, featurizerSpec: { buckets: 8192 } },
  });
  expect(await trained(startTrainingRun.trainingRun.id)).toMatchObject({ status: 'SUCCEEDED', promoted: true, resultVersion: 1 });
}, 120_000);

afterAll(async () => {
  worker?.kill('SIGTERM');
  await t?.close();
  await backend?.cleanup();
});

describe(`the loop${separateWorker ? ', with a separate worker process' : ', on the embedded defaults'}`, () => {
  it('a battle over its threshold retrains the defender, the challenger takes over everywhere, and the rematch falls below the threshold', { timeout: 180_000 }, async () => {
    const { createBattle } = await t.client.request(CreateBattleDocument, {
      input: { model: 'loop', rounds: 1000, seedDatasetVersionId: datasetVersionId, seedLabel: 'spam', intensity: 1, seed: 11, threshold: THRESHOLD },
    });
    expect(createBattle.battle).toMatchObject({ status: 'QUEUED', defenderVersion: 1, threshold: THRESHOLD, autoRetrain: true });
    const first = await untilOver(createBattle.battle.id);
    expect(first).toMatchObject({ status: 'SUCCEEDED', roundsDone: 1000, error: null, retrainNotice: null });
    expect(first.evasionRate).toBeGreaterThan(THRESHOLD);
    expect(first.retrainRunId).not.toBeNull();

    const retrain = await trained(first.retrainRunId!);
    expect(retrain).toMatchObject({ status: 'SUCCEEDED', resultVersion: 2, promoted: true });
    const { trainingRun } = await t.client.request(TrainingRunDocument, { id: first.retrainRunId! });
    expect(trainingRun!.datasetVersionId).toBe(first.retrainDatasetVersionId);
    if (separateWorker) {
      // Played and trained over there, not here.
      expect(first.workerId).not.toBeNull();
      expect(first.workerId).not.toBe(t.app.runtime.workerId);
      expect(trainingRun!.workerId).toBe(first.workerId);
    }

    // The challenger is champion now, and this API process serves it (hot reload across processes).
    const { model } = await t.client.request(ModelDocument, { name: 'loop' });
    expect(model!.aliases.find((a) => a.name === 'champion')!.version).toBe(2);
    await expect.poll(async () => (await t.client.request(ClassifyDocument, { model: 'loop', texts: ['w1n fr33 m0n3y n0w'] })).classify.version, { timeout: 10_000 }).toBe(2);

    // Same attack, fresh seed, against the new champion: well under the threshold now.
    const { rematch } = await t.client.request(RematchDocument, { input: { id: first.id } });
    expect(rematch.battle).toMatchObject({ rematchOf: first.id, defenderVersion: 2 });
    const second = await untilOver(rematch.battle.id);
    expect(second).toMatchObject({ status: 'SUCCEEDED', roundsDone: 1000, error: null });
    expect(second.evasionRate).toBeLessThan(THRESHOLD);
    expect(second.evasionRate).toBeLessThan(first.evasionRate);
    expect(second.retrainRunId).toBeNull();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttackStrategiesDocument,
  BattleDocument,
  BattleRoundCompletedDocument,
  BattlesDocument,
  BattleUpdatedDocument,
  CancelBattleDocument,
  CreateBattleDocument,
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  DatasetDocument,
  ModelDocument,
  ModelVersionBattleStatsDocument,
  RematchDocument,
  StartTrainingRunDocument,
  TrainingRunUpdatedDocument,
  type BattleFieldsFragment,
} from '../../src/sdk/index.js';
import { collectUntil, graphQLFailure, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';
import { spamHamCsv } from '../fixtures/spam-ham.js';

let backend: TestBackend;
let t: TestApp;
let versionId: string;

const over = (status: string) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status);

async function untilBattleEnds(id: string): Promise<BattleFieldsFragment> {
  const events = await collectUntil(t.client.subscribe(BattleUpdatedDocument, { battleId: id }), (e) => over(e.battleUpdated.status), 60_000);
  return events.at(-1)!.battleUpdated;
}

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend);
  // A champion trained on a dataset version, as the loop needs (it retrains on that data).
  await t.client.request(CreateModelDocument, { input: { name: 'guard', labels: ['ham', 'spam'] } });
  await t.client.request(CreateDatasetDocument, { input: { name: 'guard-data', labels: ['ham', 'spam'] } });
  const { createDatasetVersion } = await t.client.request(CreateDatasetVersionDocument, {
    input: { dataset: 'guard-data', file: new File([spamHamCsv(400)], 'guard.csv') },
  });
  versionId = createDatasetVersion.version.id;
  const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, {
    input: { model: 'guard', datasetVersionId: versionId, hyperparameters: { epochs: 5, dim: 8, seed: 1 }, featurizerSpec: { buckets: 4096 } },
  });
  const events = await collectUntil(t.client.subscribe(TrainingRunUpdatedDocument, { id: startTrainingRun.trainingRun.id }), (e) => over(e.trainingRunUpdated.status), 60_000);
  expect(events.at(-1)!.trainingRunUpdated).toMatchObject({ status: 'SUCCEEDED', promoted: true });
}, 90_000);

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

describe('battles', () => {
  it('lists the strategies the attacker knows', async () => {
    const { attackStrategies } = await t.client.request(AttackStrategiesDocument);
    const ids = attackStrategies.map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining(['leetspeak', 'homoglyphs', 'invisible', 'spacing', 'char-swap', 'word-split', 'lexicon', 'chain', 'greedy']));
    expect(attackStrategies.find((s) => s.id === 'greedy')!.queriesDefender).toBe(true);
  });

  it('plays its rounds against the champion, streams them, keeps the statistics, and retrains when too many get through', { timeout: 120_000 }, async () => {
    const { createBattle } = await t.client.request(CreateBattleDocument, {
      input: { model: 'guard', rounds: 300, seedDatasetVersionId: versionId, seedLabel: 'spam', strategies: ['homoglyphs', 'invisible', 'leetspeak', 'lexicon'], threshold: 0.01, seed: 42, intensity: 1 },
    });
    const battle = createBattle.battle;
    expect(battle).toMatchObject({ status: 'QUEUED', model: 'guard', alias: 'champion', defenderVersion: 1, harmfulLabel: 'spam', totalRounds: 300, autoRetrain: true, threshold: 0.01 });
    const live = collectUntil(t.client.subscribe(BattleRoundCompletedDocument, { battleId: battle.id }), () => false, 60_000);
    const end = await untilBattleEnds(battle.id);
    expect(end.error).toBeNull();
    expect(end).toMatchObject({ status: 'SUCCEEDED', roundsDone: 300 });
    expect(end.evasions + end.detections).toBe(300);
    expect(end.evasionRate).toBeCloseTo(end.evasions / 300, 10);
    expect(end.byStrategy.map((s) => s.key).sort()).toEqual(['homoglyphs', 'invisible', 'leetspeak', 'lexicon']);
    expect(end.byStrategy.reduce((n, s) => n + s.attempts, 0)).toBe(300);
    expect(end.byStrategy.reduce((n, s) => n + s.evasions, 0)).toBe(end.evasions);
    expect(end.bySplit.reduce((n, s) => n + s.attempts, 0)).toBe(300);
    expect(end.latency!.p50).toBeGreaterThan(0);

    // Live rounds are the stored ones.
    const batches = await live;
    const pushed = batches.flatMap((b) => b.battleRoundCompleted.rounds);
    expect(pushed.length).toBeGreaterThan(0);
    const { battle: stored } = await t.client.request(BattleDocument, { id: battle.id, first: 100 });
    expect(stored!.rounds.totalCount).toBe(300);
    const first = stored!.rounds.nodes[0]!;
    expect(first).toMatchObject({ index: 0, battleId: battle.id });
    expect(first.variant).not.toBe(first.original);
    const byIndex = new Map(stored!.rounds.nodes.map((r) => [r.index, r]));
    for (const r of pushed.filter((p) => p.index < 100)) expect(byIndex.get(r.index)).toEqual(r);
    const evadedOnly = (await t.client.request(BattleDocument, { id: battle.id, first: 100, detected: false })).battle!.rounds;
    expect(evadedOnly.totalCount).toBe(end.evasions);
    expect(evadedOnly.nodes.every((r) => !r.detected)).toBe(true);

    // Over its threshold: a retrain on the defender's data plus the evaded training-split samples.
    expect(end.evasionRate).toBeGreaterThan(0.01);
    expect(end.retrainNotice).toBeNull();
    expect(end.retrainRunId).not.toBeNull();
    const retrain = await collectUntil(t.client.subscribe(TrainingRunUpdatedDocument, { id: end.retrainRunId! }), (e) => over(e.trainingRunUpdated.status), 60_000);
    expect(retrain.at(-1)!.trainingRunUpdated).toMatchObject({ status: 'SUCCEEDED', resultVersion: 2 });
    const { dataset } = await t.client.request(DatasetDocument, { name: 'guard-data' });
    const derived = dataset!.versions.find((v) => v.id === end.retrainDatasetVersionId)!;
    expect(derived).toMatchObject({ parentVersion: 1, changes: { source: 'DERIVED' } });
    expect(derived.changes.added).toBeGreaterThan(0);
    expect(derived.rowCount).toBe(dataset!.versions.find((v) => v.version === 1)!.rowCount + derived.changes.added);
    const { model } = await t.client.request(ModelDocument, { name: 'guard' });
    expect(model!.aliases.find((a) => a.name === 'challenger')!.version).toBe(2);

    // Statistics of the defender version across its battles.
    const { modelVersionBattleStats } = await t.client.request(ModelVersionBattleStatsDocument, { model: 'guard', version: 1 });
    expect(modelVersionBattleStats.battles).toBeGreaterThanOrEqual(1);
    expect(modelVersionBattleStats.rounds).toBeGreaterThanOrEqual(300);

    // The rematch: same attack, fresh seed, against whoever is champion now.
    const { rematch } = await t.client.request(RematchDocument, { input: { id: battle.id } });
    expect(rematch.battle).toMatchObject({ rematchOf: battle.id, totalRounds: 300, strategies: ['homoglyphs', 'invisible', 'leetspeak', 'lexicon'] });
    expect(rematch.battle.seed).not.toBe(42);
    const championNow = (await t.client.request(ModelDocument, { name: 'guard' })).model!.aliases.find((a) => a.name === 'champion')!.version;
    expect(rematch.battle.defenderVersion).toBe(championNow);
    await untilBattleEnds(rematch.battle.id);
  });

  it('without ARENA_LLM_URL, skips llm-paraphrase with a notice and plays the rest', async () => {
    const { attackStrategies } = await t.client.request(AttackStrategiesDocument);
    expect(attackStrategies.find((s) => s.id === 'llm-paraphrase')).toMatchObject({ needsLlm: true, available: false, unavailableReason: expect.stringMatching(/ARENA_LLM_URL/) });
    const pinned = (await t.client.request(CreateBattleDocument, { input: { model: 'guard', rounds: 20, seedTexts: ['win free money now'], strategies: ['llm-paraphrase', 'leetspeak'], autoRetrain: false } })).createBattle.battle;
    expect(pinned.strategies).toEqual(['leetspeak']);
    expect(pinned.notices).toEqual([expect.stringMatching(/^llm-paraphrase skipped: no language model is configured: set ARENA_LLM_URL/)]);
    const end = await untilBattleEnds(pinned.id);
    expect(end).toMatchObject({ status: 'SUCCEEDED', roundsDone: 20 });
    expect(end.byStrategy.map((s) => s.key)).toEqual(['leetspeak']);
    const adaptive = (await t.client.request(CreateBattleDocument, { input: { model: 'guard', rounds: 20, seedTexts: ['win free money now'], autoRetrain: false } })).createBattle.battle;
    expect(adaptive.notices).toEqual([expect.stringMatching(/^llm-paraphrase is not among the adaptive strategies/)]);
    const adaptiveEnd = await untilBattleEnds(adaptive.id);
    expect(adaptiveEnd.byStrategy.map((s) => s.key)).not.toContain('llm-paraphrase');
  });

  it('plays the same rounds for the same seed', async () => {
    const input = { model: 'guard', rounds: 40, seedTexts: ['win free money now offer', 'claim your cash prize today'], seed: 7, autoRetrain: false };
    const a = (await t.client.request(CreateBattleDocument, { input })).createBattle.battle;
    const b = (await t.client.request(CreateBattleDocument, { input })).createBattle.battle;
    expect(await untilBattleEnds(a.id)).toMatchObject({ status: 'SUCCEEDED', roundsDone: 40 });
    expect(await untilBattleEnds(b.id)).toMatchObject({ status: 'SUCCEEDED', roundsDone: 40 });
    const rounds = async (id: string) => (await t.client.request(BattleDocument, { id, first: 100 })).battle!.rounds.nodes.map((r) => [r.strategy, r.variant, r.detected]);
    expect(await rounds(a.id)).toEqual(await rounds(b.id));
  });

  it('refuses what cannot be played, naming the problem, and creates nothing', async () => {
    await t.client.request(CreateModelDocument, { input: { name: 'untrained', labels: ['ham', 'spam'] } });
    const before = (await t.client.request(BattlesDocument, { first: 1 })).battles.totalCount;
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ model: 'nope' }, 'NOT_FOUND', /No model named nope/],
      [{ model: 'untrained' }, 'NOT_FOUND', /has no champion yet/],
      [{ rounds: 0 }, 'BAD_USER_INPUT', /rounds/],
      [{ rounds: 10_000_000 }, 'BAD_USER_INPUT', /rounds/],
      [{ strategies: ['telepathy'] }, 'BAD_USER_INPUT', /telepathy.*leetspeak/s],
      [{ seedTexts: [] }, 'BAD_USER_INPUT', /needs seed texts/],
      [{ seedTexts: ['  '] }, 'BAD_USER_INPUT', /seeds/],
      [{ threshold: 1.5 }, 'BAD_USER_INPUT', /threshold/],
      [{ harmfulLabel: 'toxic' }, 'BAD_USER_INPUT', /toxic is not a label/],
      [{ intensity: 2 }, 'BAD_USER_INPUT', /intensity/],
      [{ strategies: ['llm-paraphrase'] }, 'BAD_USER_INPUT', /llm-paraphrase cannot be played: no language model is configured: set ARENA_LLM_URL/],
    ];
    for (const [override, code, message] of cases) {
      const error = await graphQLFailure(t.client.request(CreateBattleDocument, { input: { model: 'guard', rounds: 10, seedTexts: ['free money'], ...override } as never }));
      expect({ override, code: error.code }).toEqual({ override, code });
      expect(error.message).toMatch(message);
    }
    expect((await t.client.request(BattlesDocument, { first: 1 })).battles.totalCount).toBe(before);
  });

  it('cancelBattle stops a battle between batches', async () => {
    const { createBattle } = await t.client.request(CreateBattleDocument, { input: { model: 'guard', rounds: 1_000_000, seedTexts: ['win free money now'], autoRetrain: false } });
    const id = createBattle.battle.id;
    await collectUntil(t.client.subscribe(BattleRoundCompletedDocument, { battleId: id }), () => true, 30_000);
    const { cancelBattle } = await t.client.request(CancelBattleDocument, { input: { id } });
    expect(cancelBattle.battle.status).toBe('CANCELLED');
    await new Promise((r) => setTimeout(r, 500));
    const done = (await t.client.request(BattleDocument, { id })).battle!;
    expect(done.status).toBe('CANCELLED');
    expect(done.roundsDone).toBeLessThan(1_000_000);
    const settled = done.roundsDone;
    await new Promise((r) => setTimeout(r, 500));
    expect((await t.client.request(BattleDocument, { id })).battle!.roundsDone).toBe(settled);
    expect((await graphQLFailure(t.client.request(CancelBattleDocument, { input: { id } }))).code).toBe('CONFLICT');
  });

  it('a battle is its starter’s', async () => {
    const { createBattle } = await t.client.request(CreateBattleDocument, { input: { model: 'guard', rounds: 5, seedTexts: ['free money'], autoRetrain: false } });
    const other = await t.signIn('user');
    expect((await other.client.request(BattleDocument, { id: createBattle.battle.id })).battle).toBeNull();
    expect((await graphQLFailure(other.client.request(CancelBattleDocument, { input: { id: createBattle.battle.id } }))).code).toBe('NOT_FOUND');
    expect((await graphQLFailure(other.client.request(RematchDocument, { input: { id: createBattle.battle.id } }))).code).toBe('NOT_FOUND');
    // Nor may they attack a model they cannot see.
    expect((await graphQLFailure(other.client.request(CreateBattleDocument, { input: { model: 'guard', rounds: 5, seedTexts: ['x'] } }))).code).toBe('NOT_FOUND');
    await untilBattleEnds(createBattle.battle.id);
  });
});

describe('a battle whose worker stops mid-way', () => {
  it('is handed back and resumed at its last stored batch, every round played once', { timeout: 120_000 }, async () => {
    const own = await createTestBackend();
    const env = { ARENA_SHUTDOWN_GRACE_MS: '200' };
    let first: TestApp | undefined = await startTestApp(own, env);
    let second: TestApp | undefined;
    try {
      // A trained defender to attack.
      await first.client.request(CreateModelDocument, { input: { name: 'sturdy', labels: ['ham', 'spam'] } });
      await first.client.request(CreateDatasetDocument, { input: { name: 'sturdy-data', labels: ['ham', 'spam'] } });
      const { createDatasetVersion } = await first.client.request(CreateDatasetVersionDocument, { input: { dataset: 'sturdy-data', file: new File([spamHamCsv(200)], 's.csv') } });
      const { startTrainingRun } = await first.client.request(StartTrainingRunDocument, {
        input: { model: 'sturdy', datasetVersionId: createDatasetVersion.version.id, hyperparameters: { epochs: 2, dim: 4 }, featurizerSpec: { buckets: 1024 } },
      });
      await collectUntil(first.client.subscribe(TrainingRunUpdatedDocument, { id: startTrainingRun.trainingRun.id }), (e) => over(e.trainingRunUpdated.status), 60_000);
      const rounds = 200_000;
      const { createBattle } = await first.client.request(CreateBattleDocument, { input: { model: 'sturdy', rounds, seedTexts: ['win free money now', 'claim your prize'], autoRetrain: false, seed: 5 } });
      const id = createBattle.battle.id;
      await collectUntil(first.client.subscribe(BattleRoundCompletedDocument, { battleId: id }), () => true, 30_000);
      await first.close();
      first = undefined;
      second = await startTestApp(own, env);
      const after = (await second.client.request(BattleDocument, { id })).battle!;
      expect(after.roundsDone).toBeGreaterThan(0);
      expect(after.roundsDone).toBeLessThan(rounds);
      const events = await collectUntil(second.client.subscribe(BattleUpdatedDocument, { battleId: id }), (e) => over(e.battleUpdated.status), 100_000);
      const end = events.at(-1)!.battleUpdated;
      expect(end).toMatchObject({ status: 'SUCCEEDED', roundsDone: rounds });
      expect(end.attempts).toBeGreaterThanOrEqual(2);
      expect(end.evasions + end.detections).toBe(rounds);
      // Every index once: no batch stored twice, none skipped.
      const [row] = await second.app.runtime.db
        .fork()
        .getConnection()
        .execute<{ n: number; distinct: number; max: number }[]>('select count(*)::int as n, count(distinct idx)::int as distinct, max(idx)::int as max from battle_round where battle_id = ?', [id]);
      expect(row).toEqual({ n: rounds, distinct: rounds, max: rounds - 1 });
    } finally {
      await first?.close();
      await second?.close();
      await own.cleanup();
    }
  });
});

/**
 * `npm run demo`: the loop in about a minute, on the embedded defaults, in a data directory of its
 * own (nothing of ./.arena is touched). It starts the platform in this process, then goes through
 * its public API with the SDK as a user would: import SpamAssassin, train the first champion,
 * battle it, let the battle retrain it, and rematch — printing the evasion rates before and after.
 */
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { User } from '../src/entities/index.js';
import { createLogger } from '../src/logger.js';
import { QUEUE_NAMES } from '../src/queue/index.js';
import { importSpamAssassin } from '../src/services/index.js';
import {
  BattleUpdatedDocument,
  CreateBattleDocument,
  CreateModelDocument,
  RematchDocument,
  StartTrainingRunDocument,
  TrainingRunUpdatedDocument,
  createArenaClient,
  type ArenaClient,
  type BattleFieldsFragment,
  type TrainingRunFieldsFragment,
} from '../src/sdk/index.js';

const ROUNDS = Number(process.env['DEMO_ROUNDS'] ?? 2000);
const started = performance.now();
const say = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);
const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const over = (status: string) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status);

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'arena-demo-'));
const config = loadConfig({ ...process.env, DATABASE_URL: '', REDIS_URL: '', PORT: '0', ARENA_DATA_DIR: dataDir, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn' });
const app = await startApp(config, createLogger(config), { api: true, worker: { queues: QUEUE_NAMES, concurrency: 2 } });
let client: ArenaClient | undefined;
try {
  const { services, db } = app.runtime;
  await services.users.insert(db.fork(), { email: 'demo@localhost', password: `demo ${Math.random()}`, role: 'admin' });
  const session = await services.auth.openSession(db.fork(), await db.fork().findOneOrFail(User, { email: 'demo@localhost' }));
  client = createArenaClient({ url: app.api!.url, webSocketImpl: WebSocket, token: session.accessToken });
  say(`platform up at ${app.api!.url} (embedded, data in ${dataDir})`);

  const admin = await services.principals.fromCredential(session.accessToken);
  const corpus = await importSpamAssassin(services.datasets, db.fork(), admin, { maxTextLength: config.dataset.maxTextLength });
  const splits = (corpus.version.validation as { splits?: { train: number; test: number } }).splits;
  say(`imported SpamAssassin: ${corpus.version.rowCount} e-mails (${corpus.duplicates} duplicates dropped), ${splits?.train} train / ${splits?.test} test`);

  await client.request(CreateModelDocument, { input: { name: 'defender', labels: ['ham', 'spam'] } });
  const first = await train(client, corpus.version.id);
  say(`trained the first champion: version ${first.resultVersion}, test F1 ${f1(first).toFixed(4)}`);

  const battle = await play(client, (await client.request(CreateBattleDocument, {
    input: { model: 'defender', rounds: ROUNDS, seedDatasetVersionId: corpus.version.id, seedLabel: 'spam', intensity: 1, threshold: 0.3, seed: 1 },
  })).createBattle.battle.id);
  say(`battle 1 against version ${battle.defenderVersion}: evasion rate ${pct(battle.evasionRate)} (test-split seeds ${pct(battle.testEvasionRate)}), ${ROUNDS} rounds`);
  for (const s of [...battle.byStrategy].sort((a, b) => b.rate - a.rate)) say(`    ${s.key.padEnd(15)} ${pct(s.rate).padStart(6)} of ${s.attempts}`);

  if (!battle.retrainRunId) {
    say(`no retrain: ${battle.retrainNotice ?? `the evasion rate stayed under ${pct(battle.threshold)}`}`);
  } else {
    const retrain = await waitRun(client, battle.retrainRunId);
    const evaluation = retrain.evaluation as { challenger: { macroF1: number }; champion: { macroF1: number } | null } | null;
    say(
      `retrain on the data plus the evaded samples: version ${retrain.resultVersion}, test F1 ${evaluation?.challenger.macroF1.toFixed(4)} ` +
        `vs the champion's ${evaluation?.champion?.macroF1.toFixed(4)}: ${retrain.promoted ? 'promoted, every process reloads it' : 'kept as challenger'}`,
    );
    const rematch = await play(client, (await client.request(RematchDocument, { input: { id: battle.id } })).rematch.battle.id);
    say(`rematch against version ${rematch.defenderVersion}: evasion rate ${pct(rematch.evasionRate)} (test-split seeds ${pct(rematch.testEvasionRate)})`);
    say(`test-split evasion rate ${pct(battle.testEvasionRate)} → ${pct(rematch.testEvasionRate)}`);
  }
} finally {
  await client?.close();
  await app.close();
  await rm(dataDir, { recursive: true, force: true });
}

function f1(run: TrainingRunFieldsFragment): number {
  return (run.evaluation as { challenger: { macroF1: number } }).challenger.macroF1;
}

async function train(c: ArenaClient, datasetVersionId: string): Promise<TrainingRunFieldsFragment> {
  const { startTrainingRun } = await c.request(StartTrainingRunDocument, { input: { model: 'defender', datasetVersionId } });
  return waitRun(c, startTrainingRun.trainingRun.id);
}

async function waitRun(c: ArenaClient, id: string): Promise<TrainingRunFieldsFragment> {
  for await (const e of { [Symbol.asyncIterator]: () => c.subscribe(TrainingRunUpdatedDocument, { id }) }) {
    const run = e.trainingRunUpdated;
    if (over(run.status)) {
      if (run.status !== 'SUCCEEDED') throw new Error(`training run ${id} ${run.status}: ${run.error}`);
      return run;
    }
  }
  throw new Error(`training run ${id}: no end`);
}

async function play(c: ArenaClient, id: string): Promise<BattleFieldsFragment> {
  for await (const e of { [Symbol.asyncIterator]: () => c.subscribe(BattleUpdatedDocument, { battleId: id }) }) {
    const b = e.battleUpdated;
    if (over(b.status)) {
      if (b.status !== 'SUCCEEDED') throw new Error(`battle ${id} ${b.status}: ${b.error}`);
      return b;
    }
  }
  throw new Error(`battle ${id}: no end`);
}

/**
 * `npm run screenshots`: one PNG per dashboard view in docs/screenshots/, taken in Debian's
 * Chromium (playwright-core) against the platform on its embedded defaults, in a data directory
 * of its own, with demo data made through the public API: SpamAssassin, a trained champion, a
 * battle that triggers a retrain, the rematch, and a bulk inference job.
 */
import 'reflect-metadata';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { buildWeb, webBuildIsStale } from './build-web.mjs';
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
  SubmitInferenceJobDocument,
  TrainingRunUpdatedDocument,
  createArenaClient,
  type ArenaClient,
} from '../src/sdk/index.js';

const OUT = path.resolve(import.meta.dirname, '..', 'docs', 'screenshots');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const EMAIL = 'demo@localhost';
const PASSWORD = `demo ${Math.random()}`;
const over = (status: string) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status);
const say = (line: string) => console.log(`screenshots: ${line}`);

if (await webBuildIsStale()) await buildWeb({ quiet: true });
await mkdir(OUT, { recursive: true });
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'arena-shots-'));
const profile = await mkdtemp(path.join(os.tmpdir(), 'arena-shots-chromium-'));
const config = loadConfig({ ...process.env, DATABASE_URL: '', REDIS_URL: '', PORT: '0', ARENA_DATA_DIR: dataDir, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn' });
const app = await startApp(config, createLogger(config), { api: true, worker: { queues: QUEUE_NAMES, concurrency: 2 } });
const url = app.api!.url;
let client: ArenaClient | undefined;
const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
try {
  const { services, db } = app.runtime;
  await services.users.insert(db.fork(), { email: EMAIL, password: PASSWORD, role: 'admin' });
  const session = await services.auth.openSession(db.fork(), await db.fork().findOneOrFail(User, { email: EMAIL }));
  client = createArenaClient({ url, webSocketImpl: WebSocket, token: session.accessToken });
  const admin = await services.principals.fromCredential(session.accessToken);
  const corpus = await importSpamAssassin(services.datasets, db.fork(), admin, { maxTextLength: config.dataset.maxTextLength });
  say(`imported SpamAssassin (${corpus.version.rowCount} rows)`);
  await client.request(CreateModelDocument, { input: { name: 'defender', labels: ['ham', 'spam'], description: 'Spam filter trained on SpamAssassin' } });
  const { startTrainingRun } = await client.request(StartTrainingRunDocument, { input: { model: 'defender', datasetVersionId: corpus.version.id, hyperparameters: { epochs: 5 } } });
  const firstRun = startTrainingRun.trainingRun.id;
  await until(client.subscribe(TrainingRunUpdatedDocument, { id: firstRun }), (e) => over(e.trainingRunUpdated.status));
  say('trained the first champion');

  const page = await browser.newPage();
  await page.goto(url);
  await page.fill('input[name=email]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await shot(page, 'sign-in');
  await page.click('button[type=submit]');
  await page.getByTestId('signed-in-as').waitFor();

  // A battle started from the form, photographed while its rounds stream in.
  await page.getByTestId('new-battle').click();
  const form = page.getByTestId('battle-form');
  await form.locator('input[name=rounds]').fill('4000');
  await form.locator('input[name=intensity]').fill('1');
  await form.locator('input[name=seed]').fill('1');
  await form.locator('select[name=seedLabel]').selectOption('spam');
  await shot(page, 'battle-form');
  await form.getByTestId('start-battle').click();
  await page.waitForURL(/#\/battles\/[0-9a-f-]{36}$/);
  const battleId = /#\/battles\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
  await waitFor(async () => Number((await page.getByTestId('rounds-count').textContent())?.replace(/,/g, '')) > 600);
  await shot(page, 'battle-live');
  const battle = await until(client.subscribe(BattleUpdatedDocument, { battleId }), (e) => over(e.battleUpdated.status));
  const retrainRunId = battle.at(-1)!.battleUpdated.retrainRunId;
  if (retrainRunId) {
    await page.getByTestId('retrain-result').waitFor({ timeout: 180_000 });
    say('the battle retrained the defender');
  }
  await page.waitForTimeout(500);
  await shot(page, 'battle-finished');
  const { rematch } = await client.request(RematchDocument, { input: { id: battleId } });
  await until(client.subscribe(BattleUpdatedDocument, { battleId: rematch.battle.id }), (e) => over(e.battleUpdated.status));
  await client.request(CreateBattleDocument, { input: { model: 'defender', rounds: 300, seedTexts: ['win free money now', 'claim your cash prize today'], autoRetrain: false } });

  await page.goto(`${url}/#/battles`);
  await page.getByTestId('battles-table').waitFor();
  await page.waitForTimeout(1500);
  await shot(page, 'battles');

  await page.goto(`${url}/#/training/${retrainRunId ?? firstRun}`);
  await waitFor(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points')) > 0);
  await page.waitForTimeout(300);
  await shot(page, 'training-run');

  await page.goto(`${url}/#/registry/defender`);
  await page.getByTestId('versions-table').waitFor();
  await page.locator('[data-testid=version-2] button.link', { hasText: 'details' }).click().catch(() => undefined);
  await page.waitForTimeout(500);
  await shot(page, 'registry');

  await page.goto(`${url}/#/datasets`);
  await page.getByTestId('examples-table').locator('tbody tr').first().waitFor();
  await page.waitForTimeout(500);
  await shot(page, 'datasets');

  // A bulk job big enough to be running when the picture is taken.
  const texts = Array.from({ length: 60_000 }, (_, i) => (i % 2 ? `lunch at noon tomorrow ${i}` : `win free money now ${i}`));
  const file = new File([texts.map((t) => JSON.stringify(t)).join('\n')], 'texts.jsonl');
  const { submitInferenceJob } = await client.request(SubmitInferenceJobDocument, { input: { model: 'defender', file } });
  await page.evaluate(`sessionStorage.setItem('content-arena.dashboard.inference-jobs', JSON.stringify([${JSON.stringify(submitInferenceJob.inferenceJob.id)}]))`);
  await page.goto(`${url}/#/jobs`);
  await page.getByTestId('jobs-table').waitFor();
  await page.waitForTimeout(2500);
  await shot(page, 'jobs-workers');
  say(`wrote ${OUT}`);
} finally {
  await browser.close();
  await client?.close();
  await app.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(profile, { recursive: true, force: true });
}

async function shot(page: Page, name: string): Promise<void> {
  // The whole page, up to a height a README can show.
  const height = Math.min(2200, Number(await page.evaluate('document.documentElement.scrollHeight')));
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true, clip: { x: 0, y: 0, width: 1280, height } });
  say(`${name}.png`);
}

/** Polls from here: the page's CSP (rightly) refuses the string predicates of waitForFunction. */
async function waitFor(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('screenshots: timed out waiting for the page');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function until<T>(events: AsyncIterableIterator<T>, done: (e: T) => boolean): Promise<T[]> {
  const seen: T[] = [];
  for await (const e of { [Symbol.asyncIterator]: () => events }) {
    seen.push(e);
    if (done(e)) break;
  }
  await events.return?.();
  return seen;
}

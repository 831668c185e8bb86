import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, webBuildIsStale } from '../../scripts/build-web.mjs';
import {
  BattleDocument,
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  ModelDocument,
  StartTrainingRunDocument,
  TrainingRunDocument,
  TrainingRunUpdatedDocument,
} from '../../src/sdk/index.js';
import { collectUntil, startTestApp, TEST_PASSWORD, type SignedIn, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';
import { spamHamCsv } from '../fixtures/spam-ham.js';

/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the real
 * platform (embedded, or PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set).
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** What an offline machine running as root needs (no sandbox, no calls home). */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let backend: TestBackend;
let t: TestApp;
let me: SignedIn;
let profile: string;
let browser: BrowserContext;
let championRunId: string;
let seedVersionId: string;
const problems: string[] = [];

const over = (status: string) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status);

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return page;
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(t.url);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
}

const text = async (page: Page, testId: string) => (await page.getByTestId(testId).first().textContent())?.trim() ?? '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's Chromium. Install it with: apt-get update && apt-get install -y chromium`);
  }
  const building = (async () => {
    if (await webBuildIsStale()) await buildWeb({ quiet: true });
  })();
  backend = await createTestBackend();
  t = await startTestApp(backend);
  me = await t.signIn('admin', 'analyst@test.example');
  // A champion trained on a dataset version, through the API (the battles tests do the same).
  await me.client.request(CreateModelDocument, { input: { name: 'guard', labels: ['ham', 'spam'] } });
  await me.client.request(CreateDatasetDocument, { input: { name: 'guard-data', labels: ['ham', 'spam'] } });
  const { createDatasetVersion } = await me.client.request(CreateDatasetVersionDocument, { input: { dataset: 'guard-data', file: new File([spamHamCsv(400)], 'guard.csv') } });
  seedVersionId = createDatasetVersion.version.id;
  const { startTrainingRun } = await me.client.request(StartTrainingRunDocument, {
    input: { model: 'guard', datasetVersionId: seedVersionId, hyperparameters: { epochs: 5, dim: 8, seed: 1, metricsEverySteps: 50 }, featurizerSpec: { buckets: 4096 } },
  });
  championRunId = startTrainingRun.trainingRun.id;
  const events = await collectUntil(me.client.subscribe(TrainingRunUpdatedDocument, { id: championRunId }), (e) => over(e.trainingRunUpdated.status), 60_000);
  expect(events.at(-1)!.trainingRunUpdated).toMatchObject({ status: 'SUCCEEDED', promoted: true });
  await building;
  profile = await mkdtemp(path.join(os.tmpdir(), 'arena-chromium-'));
  // A fresh profile per run; playwright wants it as launchPersistentContext's argument, not a flag.
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 900 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await t?.close();
  await backend?.cleanup();
});

describe('the dashboard in Chromium', () => {
  it('signs in, starts a battle from the form, shows its rounds live, and the retrained version in the registry', { timeout: 90_000 }, async () => {
    const page = await newPage();
    await signIn(page, me.user.email, TEST_PASSWORD);
    await expect.poll(() => text(page, 'signed-in-as')).toBe(me.user.email);

    await page.getByTestId('new-battle').click();
    const form = page.getByTestId('battle-form');
    await form.locator('select[name=model]').selectOption('guard');
    await form.locator('input[name=rounds]').fill('3000');
    await form.locator('input[name=threshold]').fill('1');
    await form.locator('input[name=intensity]').fill('1');
    await form.locator('input[name=seed]').fill('42');
    for (const s of ['homoglyphs', 'invisible', 'leetspeak', 'lexicon']) await form.locator(`input[name=strategy][value=${s}]`).check();
    await form.locator('select[name=seedLabel]').selectOption('spam');
    await form.getByTestId('start-battle').click();

    await page.waitForURL(/#\/battles\/[0-9a-f-]{36}$/);
    const battleId = /#\/battles\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
    // Every value the counter shows while the battle runs, recorded in the page as it changes.
    await page.getByTestId('rounds-count').waitFor();
    await page.evaluate(`(() => {
      window.__counts = [];
      const el = document.querySelector('[data-testid=rounds-count]');
      const record = () => window.__counts.push([el.textContent, document.querySelector('[data-testid=status]')?.textContent]);
      record();
      new MutationObserver(record).observe(el, { characterData: true, childList: true, subtree: true });
    })()`);
    await expect.poll(async () => over((await me.client.request(BattleDocument, { id: battleId, first: 1 })).battle!.status), { timeout: 60_000 }).toBe(true);
    const { battle } = await me.client.request(BattleDocument, { id: battleId, first: 1 });
    expect(battle!.error).toBeNull();
    await expect.poll(() => text(page, 'status')).toBe('succeeded');
    expect(battle).toMatchObject({ status: 'SUCCEEDED', totalRounds: 3000, roundsDone: 3000 });
    const seen = (await page.evaluate('window.__counts')) as [string, string | null][];
    const counts = seen.map(([c]) => Number(c.replace(/,/g, '')));
    // Live: the counter went up in steps while the battle ran, not in one jump at the end.
    const whileRunning = seen.filter(([c, s]) => s === 'running' && Number(c.replace(/,/g, '')) > 0 && Number(c.replace(/,/g, '')) < 3000);
    expect(whileRunning.length, `counter values seen: ${JSON.stringify(seen.slice(0, 20))}`).toBeGreaterThan(0);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    await expect.poll(() => text(page, 'rounds-count')).toBe('3,000');
    expect(await text(page, 'rounds-done')).toBe('3,000');
    expect(await text(page, 'evasion-rate')).toBe(`${(battle!.evasionRate * 100).toFixed(1)}%`);
    expect(Number(await page.getByTestId('evasion-chart').getAttribute('data-points'))).toBeGreaterThan(10);
    expect(await page.getByTestId('strategy-chart').getAttribute('data-values')).toBe(battle!.byStrategy.map((s) => s.rate).join(','));
    expect(await page.getByTestId('rounds-table').locator('tbody tr').count()).toBeGreaterThan(0);

    // Over the threshold: the retrain it triggered, followed live to the version it registered.
    expect(battle!.retrainRunId, JSON.stringify({ notice: battle!.retrainNotice, rate: battle!.evasionRate, threshold: battle!.threshold, auto: battle!.autoRetrain })).not.toBeNull();
    await expect(page.getByTestId('retrain-result').waitFor({ timeout: 60_000 })).resolves.toBeUndefined();
    const { model } = await me.client.request(ModelDocument, { name: 'guard' });
    const latest = Math.max(...model!.versions.map((v) => v.version));
    expect(latest).toBe(2);
    expect(await text(page, 'retrain-result')).toContain('guard v2');

    // The registry shows the new version and where the aliases point now.
    await page.getByTestId('nav-registry').click();
    const row = page.getByTestId('version-2');
    await row.waitFor();
    const aliasesOf2 = model!.versions.find((v) => v.version === 2)!.aliases;
    expect(aliasesOf2.length).toBeGreaterThan(0);
    for (const alias of aliasesOf2) expect(await row.textContent()).toContain(alias);
    const champion = model!.aliases.find((a) => a.name === 'champion')!.version;
    expect(await page.getByTestId(`version-${champion}`).textContent()).toContain('champion');

    // The rematch button plays the same attack against whoever is champion now.
    await page.goto(`${t.url}/#/battles/${battleId}`);
    await page.getByTestId('rematch').click();
    await page.waitForURL((u) => /#\/battles\/[0-9a-f-]{36}$/.test(u.hash) && !u.hash.endsWith(battleId));
    await expect.poll(() => text(page, 'status'), { timeout: 60_000 }).toBe('succeeded');
    await page.close();
  });

  it('opens a training run and draws its loss and F1 curves from the metric history', { timeout: 30_000 }, async () => {
    const page = await newPage();
    await signIn(page, me.user.email, TEST_PASSWORD);
    await page.getByTestId('nav-training').click();
    await page.locator(`a[href="#/training/${championRunId}"]`).click();
    const { trainingRun } = await me.client.request(TrainingRunDocument, { id: championRunId });
    const points = (name: string) => trainingRun!.metrics.filter((m) => m.name === name && m.step != null).length;
    expect(points('loss')).toBeGreaterThan(1);
    await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBe(points('loss'));
    const series = (await page.getByTestId('f1-chart').getAttribute('data-series'))!.split(',').map(Number);
    expect(series).toEqual([points('val_f1'), points('val_accuracy'), points('train_accuracy')]);
    expect(series[0]).toBeGreaterThan(0);
    expect(await page.getByTestId('steps').textContent()).toContain('train');
    expect(await page.getByTestId('status').first().textContent()).toBe('succeeded');
    await page.close();
  });

  it('shows the API’s error: a wrong password, and a refused mutation with its code', { timeout: 30_000 }, async () => {
    const page = await newPage();
    await signIn(page, me.user.email, 'not the password');
    await page.getByTestId('error').waitFor({ timeout: 10_000 }).catch(async (e: unknown) => {
      await page.screenshot({ path: '/tmp/bad-path.png' });
      throw e;
    });
    expect(await text(page, 'error-code')).toBe('UNAUTHENTICATED');
    expect(await text(page, 'error-message')).not.toBe('');
    expect(await page.getByTestId('signed-in-as').count()).toBe(0);

    await page.fill('input[name=password]', TEST_PASSWORD);
    await page.click('button[type=submit]');
    await page.getByTestId('new-battle').click();
    const form = page.getByTestId('battle-form');
    await form.locator('input[name=rounds]').fill('10000000');
    await form.getByTestId('start-battle').click();
    await form.getByTestId('error').waitFor();
    expect(await form.getByTestId('error-code').textContent()).toBe('BAD_USER_INPUT');
    expect(await form.getByTestId('error-message').textContent()).toMatch(/rounds/);
    await page.close();
  });

  it('loaded every asset from the platform, within its content security policy', () => {
    // 401s from a wrong password are the API's answer, not a problem of the page.
    expect(problems.filter((p) => !/401|Unauthorized/i.test(p))).toEqual([]);
  });
});

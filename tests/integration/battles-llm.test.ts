/**
 * Battles on a server configured for them: with a language model (ARENA_LLM_URL) and a short
 * dataset text limit. The llm-paraphrase strategy against a real HTTP server speaking the OpenAI chat completions
 * protocol (a stand-in for Ollama or vLLM), in each of the ways a language model lets a battle
 * down: it answers, it hangs, it answers garbage, it errors. None of them may fail a battle.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AttackStrategiesDocument,
  BattleDocument,
  BattleUpdatedDocument,
  CreateBattleDocument,
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  StartTrainingRunDocument,
  TrainingRunUpdatedDocument,
  type BattleFieldsFragment,
} from '../../src/sdk/index.js';
import { collectUntil, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';

type Mode = 'ok' | 'hang' | 'garbage' | 'error';

interface FakeLlm {
  mode: Mode;
  readonly requests: Record<string, unknown>[];
  readonly url: string;
  close(): Promise<void>;
}

/** The paraphrase the fake model makes: recognisable, and changed enough to read as a rewrite. */
const rewrite = (text: string) => `kindly consider: ${text.replace(/free/gi, 'no-cost').replace(/money/gi, 'funds')}`;

async function startFakeLlm(): Promise<FakeLlm> {
  const requests: Record<string, unknown>[] = [];
  const hanging = new Set<IncomingMessage>();
  const fake: { mode: Mode } = { mode: 'ok' };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url !== '/v1/chat/completions' || req.method !== 'POST') return void res.writeHead(404).end();
      const request = JSON.parse(body) as { messages: { role: string; content: string }[] };
      requests.push({ ...request, authorization: req.headers.authorization });
      const text = request.messages.find((m) => m.role === 'user')!.content;
      if (fake.mode === 'hang') return void hanging.add(req);
      if (fake.mode === 'error') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('model is loading');
      if (fake.mode === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not a completion</html>');
      // A chatty model: a preamble and quotes the client must strip.
      const content = `Here is the rewritten message:\n\n"${rewrite(text)}"`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    requests,
    url: `http://127.0.0.1:${port}/v1`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

let backend: TestBackend;
let t: TestApp;
let llm: FakeLlm;
let dataVersionId: string;

/** Dataset texts are at most this long here: the corpus fits, variants that grow by a few characters may not. */
const MAX_TEXT = 32;
/** The circuit's reset in these tests: each test waits it out, so each meets the endpoint itself. */
const RESET_MS = 400;
const over = (status: string) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status);
const SEEDS = ['win free money now', 'claim your free cash prize today', 'free money for you, click here', 'cheap pills and free money online'];

function corpus(n: number): string {
  const spam = ['win free money now', 'claim your cash prize today', 'free money offer', 'free cash online now'];
  const ham = ['meeting moved to three', 'lunch at noon tomorrow', 'see the agenda attached', 'the build is green again'];
  const rows = ['text,label'];
  for (let i = 0; i < n; i++) rows.push(`"${(i % 2 === 0 ? spam : ham)[(i * 3) % 4]!} ${i}",${i % 2 === 0 ? 'spam' : 'ham'}`);
  return `${rows.join('\n')}\n`;
}

async function battle(strategies: string[], rounds: number): Promise<BattleFieldsFragment> {
  const { createBattle } = await t.client.request(CreateBattleDocument, { input: { model: 'llm-guard', rounds, seedTexts: SEEDS, strategies, seed: 7, autoRetrain: false } });
  const events = await collectUntil(t.client.subscribe(BattleUpdatedDocument, { battleId: createBattle.battle.id }), (e) => over(e.battleUpdated.status), 60_000);
  return events.at(-1)!.battleUpdated;
}

async function roundsOf(id: string) {
  const { battle: b } = await t.client.request(BattleDocument, { id, first: 100 });
  return b!.rounds.nodes;
}

beforeAll(async () => {
  llm = await startFakeLlm();
  backend = await createTestBackend();
  t = await startTestApp(backend, { ARENA_LLM_URL: llm.url, ARENA_LLM_MODEL: 'fake-7b', ARENA_LLM_API_KEY: 'sk-test', ARENA_LLM_TIMEOUT_MS: '300', ARENA_LLM_CIRCUIT_RESET_MS: String(RESET_MS), ARENA_DATASET_MAX_TEXT_LENGTH: String(MAX_TEXT) });
  await t.client.request(CreateModelDocument, { input: { name: 'llm-guard', labels: ['ham', 'spam'] } });
  await t.client.request(CreateDatasetDocument, { input: { name: 'llm-guard-data', labels: ['ham', 'spam'] } });
  const { createDatasetVersion } = await t.client.request(CreateDatasetVersionDocument, { input: { dataset: 'llm-guard-data', file: new File([corpus(200)], 'd.csv') } });
  dataVersionId = createDatasetVersion.version.id;
  const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, {
    input: { model: 'llm-guard', datasetVersionId: createDatasetVersion.version.id, hyperparameters: { epochs: 3, dim: 8, seed: 1 }, featurizerSpec: { buckets: 4096 } },
  });
  const events = await collectUntil(t.client.subscribe(TrainingRunUpdatedDocument, { id: startTrainingRun.trainingRun.id }), (e) => over(e.trainingRunUpdated.status), 60_000);
  expect(events.at(-1)!.trainingRunUpdated).toMatchObject({ status: 'SUCCEEDED', promoted: true });
}, 90_000);

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
  await llm?.close();
});

beforeEach(async () => {
  await new Promise((r) => setTimeout(r, RESET_MS + 100));
  llm.requests.length = 0;
});

describe('the llm-paraphrase strategy', () => {
  it('is listed as available when ARENA_LLM_URL is set', async () => {
    const { attackStrategies } = await t.client.request(AttackStrategiesDocument);
    expect(attackStrategies.find((s) => s.id === 'llm-paraphrase')).toMatchObject({ needsLlm: true, available: true, unavailableReason: null });
  });

  it('plays rounds with the model’s paraphrases: the request is an OpenAI chat completion, the answer is cleaned of its preamble and quotes', async () => {
    llm.mode = 'ok';
    const end = await battle(['llm-paraphrase'], 8);
    expect(end).toMatchObject({ status: 'SUCCEEDED', roundsDone: 8, error: null, notices: [] });
    const rounds = await roundsOf(end.id);
    expect(rounds).toHaveLength(8);
    for (const r of rounds) {
      expect(r.strategy).toBe('llm-paraphrase');
      expect(r.variant).toBe(rewrite(r.original));
    }
    expect(llm.requests).toHaveLength(8);
    expect(llm.requests[0]).toMatchObject({ model: 'fake-7b', stream: false, authorization: 'Bearer sk-test', messages: [{ role: 'system' }, { role: 'user' }] });
    expect(typeof llm.requests[0]!['seed']).toBe('number');
  });

  it('survives a model that hangs: the battle succeeds, the rounds play chain instead, the circuit opens, and the battle says so', { timeout: 60_000 }, async () => {
    llm.mode = 'hang';
    const end = await battle(['llm-paraphrase'], 40);
    expect(end).toMatchObject({ status: 'SUCCEEDED', roundsDone: 40, error: null });
    const rounds = await roundsOf(end.id);
    expect(rounds.every((r) => r.strategy === 'chain' && r.variant !== r.original)).toBe(true);
    expect(end.byStrategy.map((s) => s.key)).toEqual(['chain']);
    expect(end.notices).toHaveLength(1);
    expect(end.notices[0]).toMatch(/^llm-paraphrase failed in 40 rounds, which played chain instead \(timed out after 300 ms ×\d+; circuit open \(the language model failed repeatedly\) ×\d+\)\.$/);
    // The breaker stopped calling the hanging endpoint: far fewer requests than rounds.
    expect(llm.requests.length).toBeGreaterThanOrEqual(5);
    expect(llm.requests.length).toBeLessThan(40);
  });

  it.each<[Mode, RegExp]>([
    ['garbage', /the language model's answer is not JSON/],
    ['error', /HTTP 503 from the language model: model is loading/],
  ])('survives a model that answers %s, naming what was wrong', { timeout: 60_000 }, async (mode, reason) => {
    llm.mode = mode;
    const end = await battle(['llm-paraphrase', 'leetspeak'], 30);
    expect(end).toMatchObject({ status: 'SUCCEEDED', roundsDone: 30, error: null });
    const rounds = await roundsOf(end.id);
    expect(rounds.some((r) => r.strategy === 'llm-paraphrase')).toBe(false);
    expect(llm.requests.length).toBeGreaterThan(0);
    expect(end.notices).toHaveLength(1);
    expect(end.notices[0]).toMatch(reason);
  });
});

describe('the retrain a battle triggers', () => {
  it('leaves out evaded variants longer than a dataset example may be, says how many, and retrains on the rest', { timeout: 90_000 }, async () => {
    const { createBattle } = await t.client.request(CreateBattleDocument, {
      input: { model: 'llm-guard', rounds: 300, seedDatasetVersionId: dataVersionId, seedLabel: 'spam', strategies: ['char-duplicate', 'lexicon'], intensity: 1, threshold: 0.01, seed: 5 },
    });
    const events = await collectUntil(t.client.subscribe(BattleUpdatedDocument, { battleId: createBattle.battle.id }), (e) => over(e.battleUpdated.status), 60_000);
    const end = events.at(-1)!.battleUpdated;
    expect(end).toMatchObject({ status: 'SUCCEEDED', error: null });
    const { battle: evaded } = await t.client.request(BattleDocument, { id: end.id, first: 100, detected: false });
    const long = evaded!.rounds.nodes.filter((r) => r.split === 'train' && r.variant.length > MAX_TEXT).length;
    expect(long).toBeGreaterThan(0);
    expect(end.notices.join(' ')).toMatch(new RegExp(`^\\d+ evaded variants? (was|were) longer than a dataset example may be \\(${MAX_TEXT} characters\\) and left out of the retrain\\.$`));
    // The rest still retrained: nothing was refused because of the long ones.
    expect(end.retrainNotice).toBeNull();
    expect(end.retrainRunId).not.toBeNull();
  });
});

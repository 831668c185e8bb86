import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEATURIZER_SPEC, exportOnnx, mulberry32, predict as forwardPredict, randomWeights } from '../../src/domain/model/index.js';
import {
  CreateModelDocument,
  InferenceJobDocument,
  InferenceJobUpdatedDocument,
  InferenceJobsDocument,
  InferenceStatsDocument,
  RegisterModelVersionDocument,
  SubmitInferenceJobDocument,
  type SubmitInferenceJobInput,
} from '../../src/sdk/index.js';
import { collectUntil, graphQLFailure, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';

let backend: TestBackend;
let t: TestApp;

const SPEC = { ...DEFAULT_FEATURIZER_SPEC, buckets: 1 << 12 };
const W = randomWeights(['ham', 'spam'], 8, 1 << 12, mulberry32(7));

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend, { ARENA_INFERENCE_JOB_MAX_TEXTS: '6000' });
  await t.client.request(CreateModelDocument, { input: { name: 'bulk', labels: ['ham', 'spam'] } });
  await t.client.request(RegisterModelVersionDocument, {
    input: { model: 'bulk', file: new Blob([exportOnnx(W, { spec: SPEC })]), alias: 'champion' },
  });
});

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

describe('bulk inference jobs', () => {
  it('classifies thousands of texts on a worker, streams progress, and stores every answer in order', async () => {
    const texts = Array.from({ length: 5000 }, (_, i) => (i === 1234 ? '   ' : `message number ${i}: ${i % 3 === 0 ? 'win a free prize now' : 'see you at lunch'}`));
    const { submitInferenceJob } = await t.client.request(SubmitInferenceJobDocument, { input: { model: 'bulk', texts } });
    const job = submitInferenceJob.inferenceJob;
    expect(job).toMatchObject({ model: 'bulk', alias: 'champion', version: 1, total: 5000, processed: 0 });

    const updates = await collectUntil(t.client.subscribe(InferenceJobUpdatedDocument, { id: job.id }), (e) =>
      ['SUCCEEDED', 'FAILED'].includes(e.inferenceJobUpdated.status),
    );
    const last = updates.at(-1)!.inferenceJobUpdated;
    expect(last).toMatchObject({ status: 'SUCCEEDED', processed: 5000, failed: 1, progress: 1 });
    expect(last.throughput).toBeGreaterThan(0);
    // Progress arrives in steps, never going backwards.
    const processed = updates.map((u) => u.inferenceJobUpdated.processed);
    expect(processed).toEqual([...processed].sort((a, b) => a - b));
    expect(new Set(processed).size).toBeGreaterThan(2);

    const page = (await t.client.request(InferenceJobDocument, { id: job.id, first: 3 })).inferenceJob!;
    expect(page.results.totalCount).toBe(5000);
    page.results.nodes.forEach((r, i) => {
      const expected = forwardPredict(texts[i]!, SPEC, W);
      expect(r.index).toBe(i);
      expect(r.label).toBe(expected.label);
      r.scores!.forEach((s) => expect(Math.abs(s.score - expected.scores[s.label]!)).toBeLessThan(1e-5));
    });
    const around = (await t.client.request(InferenceJobDocument, { id: job.id, first: 2, after: cursorAt(1233) })).inferenceJob!;
    expect(around.results.nodes[0]).toMatchObject({ index: 1234, label: null, scores: null, error: 'text is empty; there is nothing to classify.' });
    const spam = (await t.client.request(InferenceJobDocument, { id: job.id, first: 100, label: 'spam' })).inferenceJob!;
    expect(spam.results.nodes.every((r) => r.label === 'spam')).toBe(true);

    const { inferenceStats } = await t.client.request(InferenceStatsDocument, { model: 'bulk' });
    expect(inferenceStats).toMatchObject({ total: 1, completed: 1, failed: 0, successRate: 1, textsProcessed: 5000, textsFailed: 1 });
    expect(inferenceStats.throughput).toBeGreaterThan(0);
  });

  it('lists the caller’s jobs newest first, by model and status, in pages; another user sees none of them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await t.client.request(SubmitInferenceJobDocument, { input: { model: 'bulk', texts: [`list me ${i}`] } })).submitInferenceJob.inferenceJob.id);
    for (const id of ids) await collectUntil(t.client.subscribe(InferenceJobUpdatedDocument, { id }), (e) => ['SUCCEEDED', 'FAILED'].includes(e.inferenceJobUpdated.status));
    const first = (await t.client.request(InferenceJobsDocument, { first: 2, model: 'bulk' })).inferenceJobs;
    expect(first.nodes.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = (await t.client.request(InferenceJobsDocument, { first: 2, model: 'bulk', after: first.pageInfo.endCursor })).inferenceJobs;
    expect(next.nodes[0]!.id).toBe(ids[0]);
    expect(first.totalCount).toBe(next.totalCount);
    expect((await t.client.request(InferenceJobsDocument, { first: 100, status: 'SUCCEEDED' })).inferenceJobs.nodes.every((j) => j.status === 'SUCCEEDED')).toBe(true);
    expect((await t.client.request(InferenceJobsDocument, { first: 5, model: 'no-such-model' })).inferenceJobs).toMatchObject({ totalCount: 0, nodes: [] });
    const stranger = await t.signIn('user');
    expect((await stranger.client.request(InferenceJobsDocument, { first: 100 })).inferenceJobs).toMatchObject({ totalCount: 0, nodes: [] });
  });

  it('takes a JSON Lines file, and refuses a broken one naming the line', async () => {
    const lines = ['"plain string"', '{"text": "an object"}', '', '"third"'].join('\n');
    const ok = (await t.client.request(SubmitInferenceJobDocument, { input: { model: 'bulk', file: new Blob([lines]) } })).submitInferenceJob.inferenceJob;
    expect(ok.total).toBe(3);
    await collectUntil(t.client.subscribe(InferenceJobUpdatedDocument, { id: ok.id }), (e) => e.inferenceJobUpdated.status === 'SUCCEEDED');

    const broken = await graphQLFailure(
      t.client.request(SubmitInferenceJobDocument, { input: { model: 'bulk', file: new Blob(['"fine"\n{"text": "unterminated\n{"label": 1}']) } }),
    );
    expect(broken.code).toBe('BAD_USER_INPUT');
    expect(broken.message).toMatch(/line 2: not JSON/);
    expect(broken.message).toMatch(/line 3: no text/);
  });

  it('refuses what it cannot run, creating no job', async () => {
    const before = (await t.client.request(InferenceStatsDocument, { model: 'bulk' })).inferenceStats.total;
    const cases: [SubmitInferenceJobInput, string, RegExp][] = [
      [{ model: 'bulk', texts: [] }, 'BAD_USER_INPUT', /at least one text/],
      [{ model: 'bulk', texts: Array.from({ length: 6001 }, () => 'x') }, 'BAD_USER_INPUT', /up to 6000/],
      [{ model: 'bulk' }, 'BAD_USER_INPUT', /either inline/],
      [{ model: 'nope', texts: ['x'] }, 'NOT_FOUND', /No model named nope/],
      [{ model: 'bulk', alias: 'canary', texts: ['x'] }, 'NOT_FOUND', /no alias "canary"/],
    ];
    for (const [input, code, message] of cases) {
      const error = await graphQLFailure(t.client.request(SubmitInferenceJobDocument, { input }));
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    expect((await t.client.request(InferenceStatsDocument, { model: 'bulk' })).inferenceStats.total).toBe(before);
    expect((await t.client.request(InferenceJobDocument, { id: '00000000-0000-0000-0000-000000000000' })).inferenceJob).toBeNull();
  });
});

const cursorAt = (index: number) => Buffer.from(`result|${index}`).toString('base64url');

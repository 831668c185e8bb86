import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_FEATURIZER_SPEC,
  exportOnnx,
  mulberry32,
  predict as forwardPredict,
  randomWeights,
  type FastTextWeights,
  type FeaturizerSpec,
} from '../../src/domain/model/index.js';
import {
  ClassifyDocument,
  CreateModelDocument,
  InferenceLogsDocument,
  ModelAliasChangedDocument,
  ModelDocument,
  RegisterModelVersionDocument,
  SetModelAliasDocument,
} from '../../src/sdk/index.js';
import { graphQLFailure, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, scaled, type TestBackend } from '../helpers/backend.js';

let backend: TestBackend;
let t: TestApp;

const UPLOAD_LIMIT = 1 << 20;

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend, { ARENA_MODEL_UPLOAD_LIMIT_BYTES: String(UPLOAD_LIMIT), ARENA_CLASSIFY_MAX_TEXTS: '50', ARENA_CLASSIFY_MAX_TEXT_LENGTH: '5000' });
});

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

const BUCKETS = 1 << 12;
const SPEC: FeaturizerSpec = { ...DEFAULT_FEATURIZER_SPEC, buckets: BUCKETS };

function weights(seed: number, labels = ['ham', 'spam']): FastTextWeights {
  return randomWeights(labels, 8, BUCKETS, mulberry32(seed));
}

/** An exported model as a file a user would upload; the spec travels in its metadata unless told otherwise. */
const onnxFile = (w: FastTextWeights, spec: FeaturizerSpec | undefined = SPEC) =>
  new Blob([exportOnnx(w, spec ? { spec } : {})], { type: 'application/octet-stream' });

const TEXTS = [
  'Meeting moved to 3pm tomorrow, see the agenda.',
  'FREE MONEY!!! Click here now to claim your prize',
  'Ϝrее ｍｏｎｅｙ — f r e e  c a s h',
  'Dear customer, your account has been suspended. Verify your password.',
];

async function upload(model: string, w: FastTextWeights, alias?: string) {
  const { registerModelVersion } = await t.client.request(RegisterModelVersionDocument, {
    input: { model, file: onnxFile(w), metrics: { f1: 0.9 }, ...(alias ? { alias } : {}) },
  });
  return registerModelVersion;
}

/** Every file under the data directory's artifacts and tmp folders: nothing may be left behind by a refused upload. */
async function storedFiles(): Promise<string[]> {
  const walk = async (dir: string): Promise<string[]> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)])));
    return nested.flat();
  };
  return [...(await walk(path.join(t.config.dataDir, 'artifacts'))), ...(await walk(path.join(t.config.dataDir, 'tmp')))].sort();
}

describe('classify', () => {
  const w1 = weights(1);
  const w2 = weights(2);

  beforeAll(async () => {
    await t.client.request(CreateModelDocument, { input: { name: 'defender', labels: ['ham', 'spam'] } });
  });

  it('uploads a version (spec from the file), points champion at it, and classifies exactly as the TypeScript forward pass', async () => {
    const registered = await upload('defender', w1, 'champion');
    expect(registered.version).toMatchObject({ version: 1, source: 'UPLOAD', aliases: ['champion'], metrics: { f1: 0.9 } });
    expect(registered.version.featurizerSpec).toEqual(SPEC);
    expect(registered.version.signature).toMatchObject({
      inputs: [
        { name: 'ids', type: 'int64' },
        { name: 'weights', type: 'float32' },
      ],
      outputs: [{ name: 'probabilities', type: 'float32' }],
    });

    const { classify } = await t.client.request(ClassifyDocument, { model: 'defender', texts: TEXTS });
    expect(classify).toMatchObject({ model: 'defender', version: 1, alias: 'champion', modelVersionId: registered.version.id });
    expect(classify.results).toHaveLength(TEXTS.length);
    classify.results.forEach((r, i) => {
      const expected = forwardPredict(TEXTS[i]!, SPEC, w1);
      expect(r.label).toBe(expected.label);
      expect(r.scores.map((s) => s.label)).toEqual(['ham', 'spam']);
      r.scores.forEach((s) => expect(Math.abs(s.score - expected.scores[s.label]!)).toBeLessThan(1e-5));
      expect(r.cached).toBe(false);
    });

    // The same texts again: answered from the result cache, identically.
    const again = (await t.client.request(ClassifyDocument, { model: 'defender', texts: TEXTS })).classify;
    expect(again.results.map((r) => r.cached)).toEqual(TEXTS.map(() => true));
    expect(again.results.map((r) => r.scores)).toEqual(classify.results.map((r) => r.scores));

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`arena_inference_texts_total\\{source="model"\\} ${TEXTS.length}\\b`));
    expect(metrics).toMatch(new RegExp(`arena_inference_texts_total\\{source="cache"\\} ${TEXTS.length}\\b`));
    expect(metrics).toMatch(/arena_inference_model_versions_loaded 1\b/);
  });

  it('serves an explicit version or another alias, and names what is missing', async () => {
    await upload('defender', w2, 'challenger');
    const byAlias = (await t.client.request(ClassifyDocument, { model: 'defender', alias: 'challenger', texts: [TEXTS[1]!] })).classify;
    expect(byAlias).toMatchObject({ version: 2, alias: 'challenger' });
    expect(byAlias.results[0]!.label).toBe(forwardPredict(TEXTS[1]!, SPEC, w2).label);
    const byVersion = (await t.client.request(ClassifyDocument, { model: 'defender', version: 1, texts: [TEXTS[1]!] })).classify;
    expect(byVersion).toMatchObject({ version: 1, alias: null });

    const cases = [
      [{ model: 'nope', texts: ['hi'] }, 'NOT_FOUND', 'No model named nope.'],
      [{ model: 'defender', alias: 'canary', texts: ['hi'] }, 'NOT_FOUND', /has no alias "canary"/],
      [{ model: 'defender', version: 9, texts: ['hi'] }, 'NOT_FOUND', 'Model defender has no version 9.'],
      [{ model: 'defender', texts: [] }, 'BAD_USER_INPUT', 'texts must hold at least one text.'],
      [{ model: 'defender', texts: ['fine', '   '] }, 'BAD_USER_INPUT', 'text 1: is empty; there is nothing to classify.'],
      [{ model: 'defender', texts: ['x'.repeat(5001)] }, 'BAD_USER_INPUT', 'text 0: is 5001 characters; the limit is 5000.'],
      [{ model: 'defender', texts: Array.from({ length: 51 }, () => 'hi') }, 'BAD_USER_INPUT', /51 texts in one call; the limit is 50/],
    ] as const;
    for (const [variables, code, message] of cases) {
      const error = await graphQLFailure(t.client.request(ClassifyDocument, { ...variables, texts: [...variables.texts] }));
      expect(error.code).toBe(code);
      if (typeof message === 'string') expect(error.message).toBe(message);
      else expect(error.message).toMatch(message);
    }
  });

  it('audits every call and lists the log newest first, filtered by model, version and time', async () => {
    const since = new Date();
    const digest = (s: string) => createHash('sha256').update(s).digest('hex');
    const { classify } = await t.client.request(ClassifyDocument, { model: 'defender', version: 2, texts: ['audit me', 'and me'] });
    await t.client.request(ClassifyDocument, { model: 'defender', version: 2, texts: ['just me'] });
    await t.app.runtime.services.inference.flushAudit();
    const page = (await t.client.request(InferenceLogsDocument, { filter: { model: 'defender', version: 2, since: since.toISOString() }, first: 10 }))
      .inferenceLogs;
    expect(page.totalCount).toBe(2);
    const [single, pair] = page.nodes; // newest first
    expect(single).toMatchObject({ kind: 'CLASSIFY', model: 'defender', version: 2, inputDigest: digest('just me'), inputCount: 1, inputLength: 7, cachedCount: 0 });
    expect(single!.label).toMatch(/^(ham|spam)$/);
    expect(pair).toMatchObject({ inputCount: 2, inputLength: 14, label: null, inputDigest: digest(`${digest('audit me')}\n${digest('and me')}`) });
    expect(pair!.output).toEqual({
      labels: ['ham', 'spam'],
      predictions: classify.results.map((r) => r.label),
      scores: classify.results.map((r) => r.scores.map((s) => expect.closeTo(s.score, 6))),
    });
    expect(pair!.latencyMs).toBeGreaterThan(0);

    const all = (await t.client.request(InferenceLogsDocument, { filter: { model: 'defender' }, first: 3 })).inferenceLogs;
    expect(all.totalCount).toBeGreaterThanOrEqual(6);
    const next = (await t.client.request(InferenceLogsDocument, { filter: { model: 'defender' }, first: 3, after: all.pageInfo.endCursor })).inferenceLogs;
    expect(Number(next.nodes[0]!.id)).toBeLessThan(Number(all.nodes.at(-1)!.id));
    // The cached call of the first test is on record as such.
    const cachedCall = (await t.client.request(InferenceLogsDocument, { filter: { model: 'defender', version: 1 }, first: 100 })).inferenceLogs.nodes;
    expect(cachedCall.some((n) => n.cachedCount === TEXTS.length && n.inputCount === TEXTS.length)).toBe(true);
    const future = (await t.client.request(InferenceLogsDocument, { filter: { since: new Date(Date.now() + 60_000).toISOString() } })).inferenceLogs;
    expect(future.totalCount).toBe(0);
    const bad = await graphQLFailure(t.client.request(InferenceLogsDocument, { filter: { version: 1 } }));
    expect(bad).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('moves champion under load without a failed request, and pushes the move to subscribers', async () => {
    const changes = t.client.subscribe(ModelAliasChangedDocument, { model: 'defender' });
    const first = changes.next(); // subscribes
    await new Promise((r) => setTimeout(r, 200));
    let stop = false;
    const seen: number[] = [];
    const failures: unknown[] = [];
    const load = Array.from({ length: 4 }, async (_, k) => {
      let i = 0;
      while (!stop) {
        try {
          const { classify } = await t.client.request(ClassifyDocument, { model: 'defender', texts: [`load ${k} ${i++}`] });
          seen.push(classify.version);
        } catch (error) {
          failures.push(error);
        }
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    await t.client.request(SetModelAliasDocument, { input: { model: 'defender', alias: 'champion', version: 2 } });
    const event = await first;
    expect(event.value).toEqual({ modelAliasChanged: { model: 'defender', alias: 'champion', version: 2 } });
    // Give the swap time to happen while the load goes on.
    const deadline = Date.now() + 10_000;
    while (seen.at(-1) !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await Promise.all(load);
    await changes.return?.();
    expect(failures).toEqual([]);
    expect(seen[0]).toBe(1);
    expect(seen.at(-1)).toBe(2);
    // Once swapped, never back.
    expect(seen.slice(seen.indexOf(2))).not.toContain(1);
  });
});

describe.runIf(scaled)('hot reload across processes', () => {
  it('a second API process loads the moved champion before it swaps, failing no request', async () => {
    await t.client.request(CreateModelDocument, { input: { name: 'shared', labels: ['ham', 'spam'] } });
    await upload('shared', weights(21), 'champion');
    await upload('shared', weights(22));
    const other = await startTestApp(backend, {}, { worker: undefined });
    try {
      const versions: number[] = [];
      const failures: unknown[] = [];
      let stop = false;
      const load = (async () => {
        let i = 0;
        while (!stop) {
          try {
            versions.push((await other.client.request(ClassifyDocument, { model: 'shared', texts: [`other ${i++}`] })).classify.version);
          } catch (error) {
            failures.push(error);
          }
        }
      })();
      while (versions.length < 5) await new Promise((r) => setTimeout(r, 20));
      // Moved through the first process; the second hears of it over Redis.
      await t.client.request(SetModelAliasDocument, { input: { model: 'shared', alias: 'champion', version: 2 } });
      const deadline = Date.now() + 10_000;
      while (versions.at(-1) !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      stop = true;
      await load;
      expect(failures).toEqual([]);
      expect(versions[0]).toBe(1);
      expect(versions.at(-1)).toBe(2);
      expect(versions.slice(versions.indexOf(2))).not.toContain(1);
      // It swapped on the event, long before its periodic re-check (30 s by default) would have.
      expect(other.app.runtime.services.inference.loadedVersions()).toHaveLength(2);
    } finally {
      await other.close();
    }
  });
});

describe('more champions in use than the model cache holds', () => {
  it('serves every one, concurrently, evicting and reloading without a failed request', async () => {
    const own = await createTestBackend();
    const small = await startTestApp(own, { ARENA_MODEL_CACHE_SIZE: '1' });
    try {
      const models = ['tiny-a', 'tiny-b', 'tiny-c'];
      const w = models.map((_, i) => weights(40 + i));
      for (const [i, name] of models.entries()) {
        await small.client.request(CreateModelDocument, { input: { name, labels: ['ham', 'spam'] } });
        await small.client.request(RegisterModelVersionDocument, { input: { model: name, file: onnxFile(w[i]!), alias: 'champion' } });
      }
      const calls = Array.from({ length: 30 }, (_, k) => {
        const i = k % models.length;
        const text = `${TEXTS[k % TEXTS.length]!} ${k}`;
        return small.client.request(ClassifyDocument, { model: models[i]!, texts: [text] }).then(({ classify }) => ({ i, text, classify }));
      });
      const settled = await Promise.allSettled(calls);
      expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
      for (const s of settled) {
        const { i, text, classify } = (s as PromiseFulfilledResult<Awaited<(typeof calls)[number]>>).value;
        expect(classify.model).toBe(models[i]);
        expect(classify.results[0]!.label).toBe(forwardPredict(text, SPEC, w[i]!).label);
      }
      expect(small.app.runtime.services.inference.loadedVersions().length).toBeLessThanOrEqual(1);
    } finally {
      await small.close();
      await own.cleanup();
    }
  });
});

describe('upload validation', () => {
  beforeAll(async () => {
    await t.client.request(CreateModelDocument, { input: { name: 'strict', labels: ['ok', 'toxic', 'spam'] } });
  });

  const versionsOf = async (name: string) => (await t.client.request(ModelDocument, { name })).model!.versions.length;

  it('refuses bad files with a clear error and leaves no row and no file behind', async () => {
    const good = exportOnnx(weights(3, ['ok', 'toxic', 'spam']), { spec: SPEC });
    const before = await storedFiles();
    const cases: [string, Blob, Record<string, unknown>, string, RegExp][] = [
      ['random bytes', new Blob([Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251))]), {}, 'NOT_ONNX', /./],
      ['a truncated file', new Blob([good.slice(0, good.length >> 1)]), {}, '', /rejected/],
      ['a two-label model for a three-label model', onnxFile(weights(4)), {}, '', /output|label|3/i],
      ['no featurizer spec anywhere', new Blob([exportOnnx(weights(5, ['ok', 'toxic', 'spam']))]), {}, '', /needs the featurizer spec/],
      ['a spec with the wrong bucket count', new Blob([good]), { featurizerSpec: { ...SPEC, buckets: 1 << 10 } }, '', /buckets/],
      ['a spec that is not a spec', new Blob([good]), { featurizerSpec: { kind: 'bag-of-words' } }, '', /Invalid featurizer spec/],
      ['a file over the limit', new Blob([new Uint8Array(UPLOAD_LIMIT + 1)]), {}, '', /larger than the upload limit/],
      ['an alias that cannot be', new Blob([good]), { alias: '3' }, '', /not a bare number/],
      ['a metric that is not a number', new Blob([good]), { metrics: { f1: 'high' } }, '', /metric "f1" must be a finite number/],
    ];
    for (const [what, file, extra, problem, message] of cases) {
      const error = await graphQLFailure(t.client.request(RegisterModelVersionDocument, { input: { model: 'strict', file, ...extra } }));
      expect(error.code, what).toBe('BAD_USER_INPUT');
      expect(error.message, what).toMatch(message);
      if (problem) expect(error.errors[0]!.extensions!['problem'], what).toBe(problem);
    }
    const missing = await graphQLFailure(t.client.request(RegisterModelVersionDocument, { input: { model: 'nope', file: new Blob([good]) } }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(await versionsOf('strict')).toBe(0);
    expect(await storedFiles()).toEqual(before);

    // And the server still serves: the good file goes in.
    const { registerModelVersion } = await t.client.request(RegisterModelVersionDocument, { input: { model: 'strict', file: new Blob([good]) } });
    expect(registerModelVersion.version.version).toBe(1);
  });

  it('keeps CSRF prevention on for multipart requests', async () => {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: 'mutation($f: Upload!) { registerModelVersion(input: { model: "strict", file: $f }) { version { version } } }', variables: { f: null } }));
    form.append('map', JSON.stringify({ 0: ['variables.f'] }));
    form.append('0', new Blob([new Uint8Array(10)]), 'model.onnx');
    const response = await fetch(`${t.url}/graphql`, { method: 'POST', body: form });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/apollo-require-preflight/);
    expect(await versionsOf('strict')).toBe(1);
  });
});

import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEATURIZER_SPEC, exportedSignature, exportOnnx, mulberry32, randomWeights } from '../../src/domain/model/index.js';
import type { AliasChangedEvent } from '../../src/services/index.js';
import {
  CreateModelDocument,
  DeleteModelVersionDocument,
  ModelDocument,
  ModelsDocument,
  RemoveModelAliasDocument,
  SetModelAliasDocument,
} from '../../src/sdk/index.js';
import { graphQLFailure, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';

let backend: TestBackend;
let t: TestApp;

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend, {}, { worker: undefined });
});

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

/** A real ONNX model (random weights) as a training run or an upload would register it. */
function register(model: string, seed: number) {
  const bytes = exportOnnx(randomWeights(['ham', 'spam'], 8, 1 << 12, mulberry32(seed)));
  return t.app.runtime.services.registry.registerVersion(t.app.runtime.db.fork(), model, {
    bytes,
    featurizerSpec: { ...DEFAULT_FEATURIZER_SPEC, buckets: 1 << 12 },
    signature: { ...exportedSignature(2) },
    metrics: { f1: 0.5 + seed / 100 },
    source: 'UPLOAD',
  });
}

const count = async () => (await t.client.request(ModelsDocument, { first: 1 })).models.totalCount;

describe('model registry', () => {
  it('creates a model, and refuses bad or duplicate ones without creating anything', async () => {
    const { createModel } = await t.client.request(CreateModelDocument, {
      input: { name: 'spam-filter', labels: ['ham', 'spam'], description: 'SpamAssassin defender' },
    });
    expect(createModel.model).toMatchObject({ name: 'spam-filter', labels: ['ham', 'spam'], task: 'text-classification', versions: [], aliases: [] });
    const before = await count();
    const cases = [
      [{ name: 'spam-filter', labels: ['ham', 'spam'] }, 'CONFLICT', /already exists/],
      [{ name: 'Spam Filter', labels: ['ham', 'spam'] }, 'BAD_USER_INPUT', /name must be 1 to 64 characters/],
      [{ name: 'one-label', labels: ['spam'] }, 'BAD_USER_INPUT', /2 to 100 labels; got 1/],
      [{ name: 'dup-label', labels: ['spam', 'spam'] }, 'BAD_USER_INPUT', /appears twice/],
    ] as const;
    for (const [input, code, message] of cases) {
      const error = await graphQLFailure(t.client.request(CreateModelDocument, { input: { ...input, labels: [...input.labels] } }));
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    expect(await count()).toBe(before);
  });

  it('numbers versions per model, also when registered concurrently, and stores each artifact once', async () => {
    await t.client.request(CreateModelDocument, { input: { name: 'numbered', labels: ['ham', 'spam'] } });
    const versions = await Promise.all([1, 2, 3, 4].map((seed) => register('numbered', seed)));
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2, 3, 4]);
    const { model } = await t.client.request(ModelDocument, { name: 'numbered' });
    expect(model!.versions.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    for (const v of model!.versions) {
      expect(v.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(v.sizeBytes).toBeGreaterThan(1 << 12);
      expect(v.source).toBe('UPLOAD');
      expect(v.featurizerSpec).toMatchObject({ kind: 'hashed-ngrams', buckets: 4096 });
    }
    const again = await register('numbered', 1); // identical bytes: a new version, the same artifact
    expect(again.sha256).toBe(versions[0]!.sha256); // numbers follow lock order; Promise.all keeps seed order
    expect(again.version).toBe(5);
    // An unknown model: refused, and the artifact written first is removed again.
    await expect(register('no-such-model', 9)).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'No model named no-such-model.' });
    const orphan = createHash('sha256').update(exportOnnx(randomWeights(['ham', 'spam'], 8, 1 << 12, mulberry32(9)))).digest('hex');
    await expect(stat(path.join(t.config.dataDir, 'artifacts', 'sha256', orphan.slice(0, 2), `${orphan}.onnx`))).rejects.toThrow(/ENOENT/);
  });

  it('moves aliases, publishes each move, and refuses to delete a version an alias points at', async () => {
    await t.client.request(CreateModelDocument, { input: { name: 'defender', labels: ['ham', 'spam'] } });
    await register('defender', 11);
    await register('defender', 12);
    const events = await t.app.runtime.events.subscribe<AliasChangedEvent>('model.defender');
    try {
      await t.client.request(SetModelAliasDocument, { input: { model: 'defender', alias: 'champion', version: 1 } });
      const { setModelAlias } = await t.client.request(SetModelAliasDocument, { input: { model: 'defender', alias: 'challenger', version: 2 } });
      expect(setModelAlias.model.aliases.map((a) => [a.name, a.version])).toEqual([
        ['challenger', 2],
        ['champion', 1],
      ]);
      expect(setModelAlias.model.versions.map((v) => v.aliases)).toEqual([['challenger'], ['champion']]);
      expect((await events.next()).value).toEqual({ model: 'defender', alias: 'champion', version: 1 });
      expect((await events.next()).value).toEqual({ model: 'defender', alias: 'challenger', version: 2 });

      const refused = await graphQLFailure(t.client.request(DeleteModelVersionDocument, { input: { model: 'defender', version: 2 } }));
      expect(refused.code).toBe('CONFLICT');
      expect(refused.message).toBe('Version 2 of defender is what "challenger" points at; move or remove that alias first.');
      expect((await t.client.request(ModelDocument, { name: 'defender' })).model!.versions).toHaveLength(2);

      // Promotion: the champion moves to the challenger's version.
      await t.client.request(SetModelAliasDocument, { input: { model: 'defender', alias: 'champion', version: 2 } });
      expect((await events.next()).value).toEqual({ model: 'defender', alias: 'champion', version: 2 });
      const { removeModelAlias } = await t.client.request(RemoveModelAliasDocument, { input: { model: 'defender', alias: 'challenger' } });
      expect(removeModelAlias.model.aliases).toEqual([expect.objectContaining({ name: 'champion', version: 2 })]);
      expect((await events.next()).value).toEqual({ model: 'defender', alias: 'challenger', version: null });

      const sha = removeModelAlias.model.versions.find((v) => v.version === 1)!.sha256;
      const { deleteModelVersion } = await t.client.request(DeleteModelVersionDocument, { input: { model: 'defender', version: 1 } });
      expect(deleteModelVersion.model.versions.map((v) => v.version)).toEqual([2]);
      // No other version used those bytes, so the artifact went with the version.
      await expect(stat(path.join(t.config.dataDir, 'artifacts', 'sha256', sha.slice(0, 2), `${sha}.onnx`))).rejects.toThrow(/ENOENT/);
    } finally {
      await events.return?.();
    }
  });

  it('says what is missing or wrong when an alias cannot be set', async () => {
    await t.client.request(CreateModelDocument, { input: { name: 'lonely', labels: ['ham', 'spam'] } });
    const cases = [
      [{ model: 'nope', alias: 'champion', version: 1 }, 'NOT_FOUND', /No model named nope/],
      [{ model: 'lonely', alias: 'champion', version: 7 }, 'NOT_FOUND', /has no version 7/],
      [{ model: 'lonely', alias: '3', version: 1 }, 'BAD_USER_INPUT', /not a bare number/],
    ] as const;
    for (const [input, code, message] of cases) {
      const error = await graphQLFailure(t.client.request(SetModelAliasDocument, { input }));
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    expect((await graphQLFailure(t.client.request(RemoveModelAliasDocument, { input: { model: 'lonely', alias: 'champion' } }))).code).toBe('NOT_FOUND');
  });

  it('pages through models by name', async () => {
    const names: string[] = [];
    let after: string | null | undefined;
    do {
      const { models } = await t.client.request(ModelsDocument, { first: 2, after });
      names.push(...models.nodes.map((m) => m.name));
      after = models.pageInfo.hasNextPage ? models.pageInfo.endCursor : null;
    } while (after);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['defender', 'lonely', 'numbered', 'spam-filter']));
    expect(new Set(names).size).toBe(names.length);
  });
});

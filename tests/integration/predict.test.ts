import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClassifyDocument,
  CreateModelDocument,
  InferenceLogsDocument,
  PredictDocument,
  RegisterModelVersionDocument,
  SetModelAliasDocument,
} from '../../src/sdk/index.js';
import { graphQLFailure, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';
import { externalDataModel, memoryHogModel, tensorModel } from '../helpers/onnx-fixtures.js';

let backend: TestBackend;
let t: TestApp;

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend, { ARENA_MODEL_INSPECT_MEMORY_BYTES: String(512 * 1024 * 1024) }, { worker: undefined });
  await t.client.request(CreateModelDocument, { input: { name: 'forecaster', labels: [], task: 'time-series-forecast' } });
});

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

const file = (bytes: Uint8Array) => new Blob([bytes]);

describe('predict: models fed raw tensors', () => {
  it('registers a numeric model, serves it by alias, and checks inputs against its signature', async () => {
    const { registerModelVersion } = await t.client.request(RegisterModelVersionDocument, {
      input: { model: 'forecaster', file: file(tensorModel([1, 2, 3, 4, 5, 6], [0.5, -0.5])), alias: 'champion' },
    });
    expect(registerModelVersion.version.signature).toEqual({
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 3] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['batch', 2] }],
    });
    expect(registerModelVersion.version.featurizerSpec).toEqual({});

    // y = x · W + b with W = [[1, 2], [3, 4], [5, 6]], b = [0.5, -0.5]
    const { predict } = await t.client.request(PredictDocument, {
      model: 'forecaster',
      inputs: [{ name: 'x', dims: [2, 3], data: [1, 0, 0, 1, 1, 1] }],
    });
    expect(predict).toMatchObject({ model: 'forecaster', version: 1, alias: 'champion' });
    expect(predict.outputs).toEqual([{ name: 'y', type: 'float32', dims: [2, 2], data: [1.5, 1.5, 9.5, 11.5] }]);

    // A second version and an alias move: the same machinery as text models.
    await t.client.request(RegisterModelVersionDocument, { input: { model: 'forecaster', file: file(tensorModel()) } });
    await t.client.request(SetModelAliasDocument, { input: { model: 'forecaster', alias: 'champion', version: 2 } });
    const deadline = Date.now() + 5000;
    let version = 1;
    while (version !== 2 && Date.now() < deadline) {
      version = (await t.client.request(PredictDocument, { model: 'forecaster', inputs: [{ name: 'x', dims: [1, 3], data: [7, 8, 9] }] })).predict.version;
    }
    const v2 = (await t.client.request(PredictDocument, { model: 'forecaster', inputs: [{ name: 'x', dims: [1, 3], data: [7, 8, 9] }] })).predict;
    expect(v2).toMatchObject({ version: 2, outputs: [{ name: 'y', dims: [1, 2], data: [7, 8] }] });

    await t.app.runtime.services.inference.flushAudit();
    const logs = (await t.client.request(InferenceLogsDocument, { filter: { model: 'forecaster', version: 1 }, first: 100 })).inferenceLogs;
    // Oldest last: the first call, on two rows.
    expect(logs.nodes.at(-1)).toMatchObject({ kind: 'PREDICT', inputCount: 1, inputLength: 6, label: null, output: { outputs: [{ name: 'y', dims: [2, 2] }] } });
  });

  it('names every problem with the inputs, and runs nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [[], /"x"/],
      [[{ name: 'z', dims: [1, 3], data: [1, 2, 3] }], /"z"/],
      [[{ name: 'x', dims: [1, 4], data: [1, 2, 3, 4] }], /3/],
      [[{ name: 'x', dims: [3], data: [1, 2, 3] }], /rank|dimension/i],
      [[{ name: 'x', dims: [2, 3], data: [1, 2, 3] }], /6/],
    ];
    for (const [inputs, message] of cases) {
      const error = await graphQLFailure(t.client.request(PredictDocument, { model: 'forecaster', inputs: inputs as never }));
      expect(error.code, JSON.stringify(inputs)).toBe('BAD_USER_INPUT');
      expect(error.message, JSON.stringify(inputs)).toMatch(message);
    }
    const notText = await graphQLFailure(t.client.request(ClassifyDocument, { model: 'forecaster', texts: ['hello'] }));
    expect(notText.code).toBe('BAD_USER_INPUT');
    expect(notText.message).toMatch(/time-series-forecast model; classify takes text-classification models/);
  });

  it('refuses external data and a model that blows its memory limit, and keeps serving', async () => {
    const external = await graphQLFailure(t.client.request(RegisterModelVersionDocument, { input: { model: 'forecaster', file: file(externalDataModel()) } }));
    expect(external.code).toBe('BAD_USER_INPUT');
    expect(external.errors[0]!.extensions!['problem']).toBe('EXTERNAL_DATA');

    const hog = await graphQLFailure(t.client.request(RegisterModelVersionDocument, { input: { model: 'forecaster', file: file(memoryHogModel()) } }));
    expect(hog.code).toBe('BAD_USER_INPUT');
    expect(['OUT_OF_MEMORY', 'RUN_FAILED', 'CRASHED']).toContain(hog.errors[0]!.extensions!['problem']);

    const ok = (await t.client.request(PredictDocument, { model: 'forecaster', version: 1, inputs: [{ name: 'x', dims: [1, 3], data: [0, 0, 0] }] })).predict;
    expect(ok.outputs[0]!.data).toEqual([0.5, -0.5]);
  });
});

import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs/light.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTensorModelSignature, checkTextClassifierSignature, exportOnnx, mulberry32, ONNX_FORMAT, randomWeights } from '../../src/domain/model/index.js';
import {
  inspectOnnxFile,
  MIN_INSPECT_MEMORY_BYTES,
  OnnxInspectionError,
  type InspectLimits,
  type OnnxProblemCode,
} from '../../src/inference/onnx-inspector.js';
import { externalDataModel, fastTextModel, memoryHogModel, onnxBytes, runFailureModel, tensorModel, valueInfo } from '../helpers/onnx-fixtures.js';

const MiB = 2 ** 20;
// Generous on time: a child under tsx takes about half a second to start on a busy 2-core machine.
const LIMITS: InspectLimits = { timeoutMs: 20_000, memoryBytes: 512 * MiB };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'onnx-inspector-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixture(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

async function rejection(file: string, limits: InspectLimits = LIMITS): Promise<OnnxInspectionError> {
  try {
    await inspectOnnxFile(file, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(OnnxInspectionError);
    return error as OnnxInspectionError;
  }
  throw new Error(`expected ${file} to be rejected`);
}

function expectProblem(error: OnnxInspectionError, codes: readonly OnnxProblemCode[], message: RegExp): void {
  expect(codes, error.message).toContain(error.problem);
  expect(error.message).toMatch(message);
}

describe('inspectOnnxFile', () => {
  it('reads the signature and header of an exported fastText model, and test-runs it', async () => {
    const inspection = await inspectOnnxFile(await fixture('fasttext.onnx', fastTextModel()), LIMITS);
    expect(inspection.signature).toEqual({
      inputs: [
        { name: 'ids', type: 'int64', shape: ['batch', 'length'] },
        { name: 'weights', type: 'float32', shape: ['batch', 'length'] },
      ],
      outputs: [{ name: 'probabilities', type: 'float32', shape: ['batch', 2] }],
    });
    expect(inspection.irVersion).toBe(8);
    expect(inspection.opsets).toEqual([{ domain: '', version: 13 }]);
    expect(inspection.producer).toBe('content-arena');
    expect(inspection.metadata).toMatchObject({ format: ONNX_FORMAT, labels: '["ham","spam"]' });
    expect(inspection.smokeRun).toEqual({ ran: true });
    expect(checkTextClassifierSignature(inspection.signature, 2)).toBeUndefined();
  });

  it('passes a generic numeric model (MatMul + Add) with its signature', async () => {
    const inspection = await inspectOnnxFile(await fixture('linear.onnx', tensorModel([1, 2, 3, 4, 5, 6], [0.5, -0.5])), LIMITS);
    expect(inspection.signature).toEqual({
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 3] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['batch', 2] }],
    });
    expect(inspection.producer).toBe('onnx-fixtures 1');
    expect(inspection.metadata).toEqual({ format: 'test/linear@1' });
    expect(inspection.smokeRun.ran).toBe(true);
    expect(checkTensorModelSignature(inspection.signature)).toBeUndefined();
  });

  describe('rejects in this process what is not a self-contained ONNX model', () => {
    it('an empty file', async () => {
      expectProblem(await rejection(await fixture('empty.onnx', new Uint8Array())), ['NOT_ONNX'], /not an ONNX model: it is empty/);
    });

    it('random bytes', async () => {
      const rng = mulberry32(7);
      const bytes = Uint8Array.from({ length: 4096 }, () => Math.floor(rng() * 256));
      expectProblem(await rejection(await fixture('random.onnx', bytes)), ['NOT_ONNX'], /^The file is not an ONNX model: /);
    });

    it('a JSON file', async () => {
      const bytes = new TextEncoder().encode(JSON.stringify({ inputs: ['x'], weights: [1, 2, 3] }));
      expectProblem(await rejection(await fixture('model.json.onnx', bytes)), ['NOT_ONNX'], /not an ONNX model/);
    });

    it('a valid file cut in half', async () => {
      const bytes = fastTextModel();
      const error = await rejection(await fixture('truncated.onnx', bytes.subarray(0, bytes.length >> 1)));
      expectProblem(error, ['NOT_ONNX', 'LOAD_FAILED'], /not an ONNX model: (it is cut short inside its graph|it does not decode as an ONNX ModelProto \(.+\))|cannot load/);
    });

    it('a model whose graph has no nodes', async () => {
      const bytes = onnxBytes({ name: 'empty', input: [valueInfo('x', 1, [1])], output: [valueInfo('x', 1, [1])] });
      expectProblem(await rejection(await fixture('no-nodes.onnx', bytes)), ['NOT_ONNX'], /its graph has no nodes/);
    });

    it('an initializer kept in an external file', async () => {
      const file = await fixture('external.onnx', externalDataModel());
      await writeFile(path.join(dir, 'weights.bin'), new Uint8Array(24));
      expectProblem(await rejection(file), ['EXTERNAL_DATA'], /Initializer "W" keeps its data in an external file \("weights\.bin"\); upload a self-contained model/);
    });
  });

  describe('reads the header without decoding the whole file', () => {
    // Raw protobuf: a top-level graph field given again is merged into the first by every decoder.
    const field = (id: number, payload: Uint8Array): Uint8Array => protobuf.Writer.create().uint32((id << 3) | 2).bytes(payload).finish();
    const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
    const GRAPH = 7;
    const INITIALIZER = 5;
    const NODE = 1;
    const noNodes = () => onnxBytes({ name: 'g', input: [valueInfo('x', 1, [1])], output: [valueInfo('x', 1, [1])] });

    it('skips packed tensor data, which a full decode would turn into 60 times its size in objects', async () => {
      // 16 MiB of packed int64 ones: protobufjs' decode makes 16 million Longs of it (about 1 GiB).
      const int64Data = field(7, new Uint8Array(16 * MiB).fill(1));
      const bytes = concat(noNodes(), field(GRAPH, field(INITIALIZER, int64Data)));
      const heapBefore = process.memoryUsage().heapUsed;
      const started = performance.now();
      const error = await rejection(await fixture('int64-bomb.onnx', bytes));
      expectProblem(error, ['NOT_ONNX'], /its graph has no nodes/);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * MiB);
    });

    it('counts millions of tiny entries without making objects of them', async () => {
      const emptyNodes = Buffer.alloc(2 * 4_000_000);
      for (let i = 0; i < emptyNodes.length; i += 2) emptyNodes[i] = (NODE << 3) | 2; // node {}, length 0
      const bytes = concat(onnxBytes({ name: 'g', node: [] }), field(GRAPH, emptyNodes));
      const heapBefore = process.memoryUsage().heapUsed;
      const error = await rejection(await fixture('many-nodes.onnx', bytes));
      expectProblem(error, ['NOT_ONNX'], /its graph declares no inputs/);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * MiB);
    });

    it('an initializer marked external by its data location alone', async () => {
      const tensor = protobuf.Writer.create().uint32((8 << 3) | 2).string('table').uint32(14 << 3).int32(1).finish();
      const bytes = concat(tensorModel(), field(GRAPH, field(INITIALIZER, tensor)));
      expectProblem(await rejection(await fixture('external-flag.onnx', bytes)), ['EXTERNAL_DATA'], /Initializer "table" keeps its data in an external file;/);
    });

    it('too many metadata entries', async () => {
      const METADATA_PROPS = 14;
      const entries = Array.from({ length: 10_001 }, () => field(METADATA_PROPS, new Uint8Array()));
      const bytes = concat(tensorModel(), ...entries);
      expectProblem(await rejection(await fixture('metadata.onnx', bytes)), ['NOT_ONNX'], /more than 10000 opset imports and metadata entries/);
    });

    it('a field of the wrong wire type', async () => {
      const bytes = concat(tensorModel(), new Uint8Array([GRAPH << 3, 1])); // graph as a varint
      expectProblem(await rejection(await fixture('wire-type.onnx', bytes)), ['NOT_ONNX'], /its graph field has the wrong wire type/);
    });

    it('nested lengths that overrun their message', async () => {
      // An initializer 3 bytes long whose name field claims 10 bytes.
      const bytes = concat(tensorModel(), field(GRAPH, concat(new Uint8Array([(INITIALIZER << 3) | 2, 3, (8 << 3) | 2, 10, 0x61]), new Uint8Array(16))));
      expectProblem(await rejection(await fixture('overrun.onnx', bytes)), ['NOT_ONNX'], /overrun an initializer/);
    });

    it('keeps metadata keys as given, __proto__ included', async () => {
      const bytes = onnxBytes(
        {
          name: 'linear',
          input: [valueInfo('x', 1, ['batch', 2])],
          output: [valueInfo('y', 1, ['batch', 2])],
          node: [{ name: 'y', opType: 'Identity', input: ['x'], output: ['y'] }],
        },
        { ['__proto__']: 'not a prototype', labels: '["a","b"]' },
      );
      const inspection = await inspectOnnxFile(await fixture('proto-key.onnx', bytes), LIMITS);
      expect(Object.getPrototypeOf(inspection.metadata)).toBe(Object.prototype);
      expect(Object.entries(inspection.metadata)).toEqual([
        ['__proto__', 'not a prototype'],
        ['labels', '["a","b"]'],
      ]);
      expect(Object.isFrozen(inspection.metadata)).toBe(true);
    });
  });

  describe('rejects what fails in the child process, which cannot harm this one', () => {
    it('a model that loads but fails when run', async () => {
      const error = await rejection(await fixture('bad-reshape.onnx', runFailureModel()));
      expectProblem(error, ['RUN_FAILED'], /fails on a test run with zero-filled inputs.*Reshape.*cannot be reshaped/);
      expect(error.message).not.toContain('onnxruntime_src'); // build paths trimmed
      expect(error.message).not.toContain('\u001b['); // and colour codes
    });

    it('a model whose run needs far more memory than the limit (a 1 GiB Expand under 512 MiB)', async () => {
      const error = await rejection(await fixture('memory-hog.onnx', memoryHogModel()));
      expectProblem(error, ['OUT_OF_MEMORY'], /needs more memory than the 512 MiB allowed.*(bad_alloc|allocate)/);
      // This process is untouched and the inspector still works.
      expect(process.memoryUsage().rss).toBeLessThan(1024 * MiB);
      const inspection = await inspectOnnxFile(await fixture('after-hog.onnx', tensorModel()), LIMITS);
      expect(inspection.smokeRun.ran).toBe(true);
    });

    it('a model too big to load within the limit (64 MiB of weights under 256 MiB)', async () => {
      const bytes = exportOnnx(randomWeights(['a', 'b'], 16, 2 ** 20, mulberry32(1)));
      const error = await rejection(await fixture('big.onnx', bytes), { ...LIMITS, memoryBytes: 256 * MiB });
      expectProblem(error, ['OUT_OF_MEMORY'], /needs more memory than the 256 MiB allowed.*bad_alloc/);
    });

    it('a model that does not finish within the time limit', async () => {
      const error = await rejection(await fixture('slow.onnx', tensorModel()), { ...LIMITS, timeoutMs: 1 });
      expectProblem(error, ['TIMEOUT'], /took longer than the 1 ms allowed/);
    });
  });

  it('leaves nothing behind beside the file', async () => {
    const before = await readdir(dir);
    await inspectOnnxFile(await fixture('clean.onnx', tensorModel()), LIMITS);
    await rejection(await fixture('clean-bad.onnx', runFailureModel()));
    expect((await readdir(dir)).filter((f) => !before.includes(f)).sort()).toEqual(['clean-bad.onnx', 'clean.onnx']);
  });

  it('refuses limits no file could pass, as a configuration error', async () => {
    const file = await fixture('limits.onnx', tensorModel());
    await expect(inspectOnnxFile(file, { ...LIMITS, memoryBytes: MIN_INSPECT_MEMORY_BYTES - 1 })).rejects.toThrow(RangeError);
    await expect(inspectOnnxFile(file, { ...LIMITS, timeoutMs: 0 })).rejects.toThrow(RangeError);
  });
});

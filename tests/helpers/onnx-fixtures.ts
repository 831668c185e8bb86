/**
 * Small ONNX models built in code (no binary fixtures), with the same protobuf schema and layout
 * as src/domain/model/onnx-export.ts: a generic tensor model for `predict`, and models that fail
 * inspection in each particular way.
 */
import { exportOnnx, mulberry32, onnxModelType, randomWeights } from '../../src/domain/model/index.js';

const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;
const ONNX_ATTR_INT = 2;

type Dim = number | string;

export const valueInfo = (name: string, elemType: number, dims: readonly Dim[]) => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

const floatTensor = (name: string, dims: readonly number[], values: readonly number[]) => ({
  name,
  dataType: ONNX_FLOAT,
  dims: [...dims],
  rawData: new Uint8Array(new Float32Array(values).buffer),
});

const int64Tensor = (name: string, values: readonly number[]) => ({
  name,
  dataType: ONNX_INT64,
  dims: [values.length],
  rawData: new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer),
});

const node = (opType: string, input: readonly string[], output: string, attribute: readonly object[] = []) => ({
  name: output,
  opType,
  input: [...input],
  output: [output],
  attribute: [...attribute],
});

/** A ModelProto (IR 8, opset 13) around `graph`, encoded. */
export function onnxBytes(graph: object, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const bytes = onnxModelType()
    .encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'onnx-fixtures',
      producerVersion: '1',
      graph,
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    })
    .finish();
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export const TENSOR_MODEL_INPUT = 'x';
export const TENSOR_MODEL_OUTPUT = 'y';

/**
 * y = x · W + b: float32 x [batch, 3] → float32 y [batch, 2], with W [3, 2] given row-major (by
 * default the identity on the first two columns, so y = x[:, 0..1]) and bias b [2].
 */
export function tensorModel(weights: readonly number[] = [1, 0, 0, 1, 0, 0], bias: readonly number[] = [0, 0]): Uint8Array {
  if (weights.length !== 6 || bias.length !== 2) throw new Error('tensorModel takes 6 weights ([3, 2] row-major) and 2 biases');
  return onnxBytes(
    {
      name: 'linear',
      input: [valueInfo(TENSOR_MODEL_INPUT, ONNX_FLOAT, ['batch', 3])],
      output: [valueInfo(TENSOR_MODEL_OUTPUT, ONNX_FLOAT, ['batch', 2])],
      initializer: [floatTensor('W', [3, 2], weights), floatTensor('b', [2], bias)],
      node: [node('MatMul', [TENSOR_MODEL_INPUT, 'W'], 'xw'), node('Add', ['xw', 'b'], TENSOR_MODEL_OUTPUT)],
    },
    { format: 'test/linear@1' },
  );
}

/** The exported fastText graph over labels ['ham', 'spam'] (a small table: 256 buckets × 8). */
export function fastTextModel(): Uint8Array {
  return exportOnnx(randomWeights(['ham', 'spam'], 8, 256, mulberry32(1)));
}

/** tensorModel's layout, but W is stored in a file beside the model ("weights.bin"). */
export function externalDataModel(): Uint8Array {
  return onnxBytes({
    name: 'external',
    input: [valueInfo('x', ONNX_FLOAT, ['batch', 3])],
    output: [valueInfo('y', ONNX_FLOAT, ['batch', 2])],
    initializer: [
      {
        name: 'W',
        dataType: ONNX_FLOAT,
        dims: [3, 2],
        dataLocation: 1,
        externalData: [
          { key: 'location', value: 'weights.bin' },
          { key: 'length', value: '24' },
        ],
      },
    ],
    node: [node('MatMul', ['x', 'W'], 'y')],
  });
}

/**
 * Loads (the batch size is symbolic, so nothing is wrong until run time) but fails on any run:
 * x [batch, 3] reshaped to a fixed [7].
 */
export function runFailureModel(): Uint8Array {
  return onnxBytes({
    name: 'bad-reshape',
    input: [valueInfo('x', ONNX_FLOAT, ['batch', 3])],
    output: [valueInfo('y', ONNX_FLOAT, [7])],
    initializer: [int64Tensor('shape', [7])],
    node: [node('Reshape', ['x', 'shape'], 'y')],
  });
}

/**
 * A few hundred bytes that need side² × 4 bytes at run time: x [batch, 1] is expanded to
 * [side, side] floats (1 GiB at the default 16384), then summed to [side].
 */
export function memoryHogModel(side = 16384): Uint8Array {
  return onnxBytes({
    name: 'memory-hog',
    input: [valueInfo('x', ONNX_FLOAT, ['batch', 1])],
    output: [valueInfo('y', ONNX_FLOAT, [side])],
    initializer: [int64Tensor('shape', [side, side]), int64Tensor('axes', [1])],
    node: [node('Expand', ['x', 'shape'], 'big'), node('ReduceSum', ['big', 'axes'], 'y', [{ name: 'keepdims', type: ONNX_ATTR_INT, i: 0 }])],
  });
}

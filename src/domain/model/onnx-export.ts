/**
 * Writes trained fastText weights as a self-contained ONNX model (IR 8, opset 13), so the built-in
 * model is served by ONNX Runtime like any uploaded or GPU-trained one. The domain only builds the
 * bytes; loading them is the serving layer's business.
 *
 * Graph (B = batch, L = features per row, D = dim, C = classes):
 *   ids int64 [B, L] ──Gather(embeddings [buckets, D], axis 0)──▶ [B, L, D]
 *   weights float [B, L] ──Unsqueeze(axes [2])──▶ [B, L, 1]
 *   Mul ──▶ [B, L, D] ──ReduceSum(axes [1], keepdims 0)──▶ [B, D]   (weights sum to 1: the mean)
 *   MatMul(out_weights [D, C]) ──Add(out_bias [C])──Softmax(axis −1)──▶ probabilities float [B, C]
 * Input rows come from featurizeBatch(): padding has id 0 and weight 0.
 *
 * Size: the embedding table dominates, buckets × dim × 4 bytes (2^20 × 16 → 64 MiB). Every tensor
 * is stored inline as little-endian raw_data; the file never references external data.
 */
import type { FastTextWeights } from './fasttext.js';
import { assertValidWeights } from './fasttext.js';
import type { FeaturizerSpec } from './featurizer-spec.js';
import { ONNX_ATTR_INT, ONNX_FLOAT, ONNX_INT64, onnxModelType } from './onnx-schema.js';
import type { ModelSignature } from './signature.js';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;
export const ONNX_PRODUCER = 'content-arena';
/** Identifies this graph layout in the model metadata (key "format"). */
export const ONNX_FORMAT = 'content-arena/fasttext@1';
export const ONNX_INPUT_IDS = 'ids';
export const ONNX_INPUT_WEIGHTS = 'weights';
export const ONNX_OUTPUT = 'probabilities';

export interface OnnxExportOptions {
  /** Stored as metadata "featurizer_spec" (JSON), so the file alone says how to featurize. */
  readonly spec?: FeaturizerSpec;
  /** ModelProto.model_version (e.g. the platform's model version number). */
  readonly modelVersion?: number;
  readonly producerVersion?: string;
  readonly docString?: string;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a float32 array in little-endian order (a view, not a copy, on little-endian hosts). */
function floatBytes(a: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(i * 4, a[i]!, true);
  return out;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

const tensor = (name: string, dataType: number, dims: readonly number[], rawData: Uint8Array) => ({
  name,
  dataType,
  dims: [...dims],
  rawData,
});

const valueInfo = (name: string, elemType: number, dims: readonly (number | string)[]) => ({
  name,
  type: {
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  },
});

const node = (opType: string, inputs: readonly string[], output: string, attribute: readonly object[] = []) => ({
  name: output,
  opType,
  input: [...inputs],
  output: [output],
  attribute: [...attribute],
});

const intAttr = (name: string, i: number) => ({ name, type: ONNX_ATTR_INT, i });

/** Serializes the weights as an ONNX ModelProto; see the module comment for the graph. */
export function exportOnnx(weights: FastTextWeights, options: OnnxExportOptions = {}): Uint8Array {
  assertValidWeights(weights);
  if (options.spec !== undefined && options.spec.buckets !== weights.buckets) {
    throw new Error(`featurizer spec has ${options.spec.buckets} buckets but the model has ${weights.buckets}`);
  }
  const { dim, buckets } = weights;
  const C = weights.labels.length;

  const graph = {
    name: 'fasttext',
    docString: 'Mean of hashed n-gram embeddings → linear layer → softmax (fastText, "Bag of Tricks").',
    input: [
      valueInfo(ONNX_INPUT_IDS, ONNX_INT64, ['batch', 'length']),
      valueInfo(ONNX_INPUT_WEIGHTS, ONNX_FLOAT, ['batch', 'length']),
    ],
    output: [valueInfo(ONNX_OUTPUT, ONNX_FLOAT, ['batch', C])],
    initializer: [
      tensor('embeddings', ONNX_FLOAT, [buckets, dim], floatBytes(weights.embeddings)),
      tensor('out_weights', ONNX_FLOAT, [dim, C], floatBytes(weights.outWeights)),
      tensor('out_bias', ONNX_FLOAT, [C], floatBytes(weights.outBias)),
      tensor('unsqueeze_axes', ONNX_INT64, [1], int64Bytes([2])),
      tensor('reduce_axes', ONNX_INT64, [1], int64Bytes([1])),
    ],
    node: [
      node('Gather', ['embeddings', ONNX_INPUT_IDS], 'gathered', [intAttr('axis', 0)]),
      node('Unsqueeze', [ONNX_INPUT_WEIGHTS, 'unsqueeze_axes'], 'weights_3d'),
      node('Mul', ['gathered', 'weights_3d'], 'weighted'),
      node('ReduceSum', ['weighted', 'reduce_axes'], 'pooled', [intAttr('keepdims', 0)]),
      node('MatMul', ['pooled', 'out_weights'], 'projected'),
      node('Add', ['projected', 'out_bias'], 'logits'),
      node('Softmax', ['logits'], ONNX_OUTPUT, [intAttr('axis', -1)]),
    ],
  };

  const metadataProps = [
    { key: 'format', value: ONNX_FORMAT },
    { key: 'labels', value: JSON.stringify(weights.labels) },
    { key: 'dim', value: String(dim) },
    { key: 'buckets', value: String(buckets) },
  ];
  if (options.spec !== undefined) metadataProps.push({ key: 'featurizer_spec', value: JSON.stringify(options.spec) });

  const model = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: ONNX_PRODUCER,
    ...(options.producerVersion === undefined ? {} : { producerVersion: options.producerVersion }),
    ...(options.modelVersion === undefined ? {} : { modelVersion: options.modelVersion }),
    docString: options.docString ?? `fastText-style text classifier over ${C} labels`,
    graph,
    metadataProps,
  };

  const bytes = onnxModelType().encode(model).finish();
  // protobufjs hands back a Node Buffer on Node; expose a plain Uint8Array view of the same memory.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The signature onnxruntime reports for an exported model with `classes` labels (recorded with built-in versions). */
export function exportedSignature(classes: number): ModelSignature {
  return {
    inputs: [
      { name: ONNX_INPUT_IDS, type: 'int64', shape: ['batch', 'length'] },
      { name: ONNX_INPUT_WEIGHTS, type: 'float32', shape: ['batch', 'length'] },
    ],
    outputs: [{ name: ONNX_OUTPUT, type: 'float32', shape: ['batch', classes] }],
  };
}

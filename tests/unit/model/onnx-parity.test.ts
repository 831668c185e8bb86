import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FEATURIZER_SPEC,
  exportOnnx,
  featurize,
  featurizeBatch,
  forward,
  HARDENED_FEATURIZER_SPEC,
  mulberry32,
  onnxModelType,
  ONNX_FORMAT,
  randomWeights,
  type FastTextWeights,
  type FeaturizerSpec,
} from '../../../src/domain/model/index.js';

const LABELS = ['ham', 'spam', 'phishing', 'harassment'];
const SPEC: FeaturizerSpec = { ...HARDENED_FEATURIZER_SPEC, buckets: 2 ** 12 };

const TEXTS = [
  '',
  'hi',
  'Hello world',
  'FREE MONEY!!! Click here now: http://win.example/claim?id=1',
  'Ϝrее ｍｏｎｅｙ — f r e e  c a s h',
  'fr\u200bee mo\u00adney, unsub\u202escribe\u202c',
  'Meeting moved to 3pm tomorrow, see the attached agenda.',
  'You are an idiot and everyone hates you',
  'Привет мир! καλημέρα κόσμε. 你好世界。こんにちは。مرحبا',
  'emoji 😀👍🏽🔥 and 𝐛𝐨𝐥𝐝 letters',
  '!!! ??? ...',
  '1234567890 0987654321',
  'a',
  'the the the the the the the the',
  'Dear customer, your account has been suspended. Verify your password at the link below within 24 hours.',
  'lorem ipsum dolor sit amet '.repeat(40),
  'Long e-mail body. '.repeat(300), // well past maxChars
  'x'.repeat(4000),
  'ΙNVEST іn ВІТСОІN tоdаy, guaranteed returns',
  'Ok.',
];

type Decoded = {
  irVersion: number;
  producerName: string;
  opsetImport: { domain?: string; version: number }[];
  metadataProps: { key: string; value: string }[];
  graph: {
    node: { opType: string; input: string[]; output: string[] }[];
    input: ValueInfo[];
    output: ValueInfo[];
    initializer: { name: string; dims: number[]; dataType: number; rawData?: Uint8Array; externalData?: unknown[]; dataLocation?: number }[];
  };
};
type ValueInfo = { name: string; type: { tensorType: { elemType: number; shape: { dim: { dimValue?: number; dimParam?: string }[] } } } };

const decode = (bytes: Uint8Array): Decoded => {
  const type = onnxModelType();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as Decoded;
};

async function runOnnx(bytes: Uint8Array, texts: readonly string[], spec: FeaturizerSpec): Promise<{ probs: Float32Array; classes: number }> {
  const session = await ort.InferenceSession.create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  try {
    const batch = featurizeBatch(texts, spec);
    const out = await session.run({
      ids: new ort.Tensor('int64', batch.ids, [batch.batch, batch.length]),
      weights: new ort.Tensor('float32', batch.weights, [batch.batch, batch.length]),
    });
    const probs = out.probabilities!;
    expect(probs.dims.slice(0, 1)).toEqual([texts.length]);
    return { probs: probs.data as Float32Array, classes: probs.dims[1]! };
  } finally {
    await session.release();
  }
}

function maxParityError(probs: Float32Array, texts: readonly string[], spec: FeaturizerSpec, w: FastTextWeights): number {
  const C = w.labels.length;
  let max = 0;
  texts.forEach((text, b) => {
    const expected = forward(featurize(text, spec), w);
    for (let c = 0; c < C; c++) max = Math.max(max, Math.abs(probs[b * C + c]! - expected[c]!));
  });
  return max;
}

describe('exportOnnx', () => {
  const weights = randomWeights(LABELS, 16, SPEC.buckets, mulberry32(20261122));

  it('writes a ModelProto that decodes to the expected graph, inputs, outputs and metadata', () => {
    const bytes = exportOnnx(weights, { spec: SPEC, modelVersion: 7 });
    const model = decode(bytes);
    expect(model.irVersion).toBe(8);
    expect(model.producerName).toBe('content-arena');
    // The default ONNX domain is the empty string, which protobuf may leave out.
    expect(model.opsetImport.map((o) => [o.domain ?? '', o.version])).toEqual([['', 13]]);
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta.labels!)).toEqual(LABELS);
    expect(JSON.parse(meta.featurizer_spec!)).toEqual(SPEC);
    expect(meta.format).toBe(ONNX_FORMAT);
    expect(meta.dim).toBe('16');
    expect(meta.buckets).toBe(String(2 ** 12));

    const shape = (v: ValueInfo) => v.type.tensorType.shape.dim.map((d) => d.dimParam ?? d.dimValue);
    expect(model.graph.input.map((v) => [v.name, v.type.tensorType.elemType, shape(v)])).toEqual([
      ['ids', 7, ['batch', 'length']],
      ['weights', 1, ['batch', 'length']],
    ]);
    expect(model.graph.output.map((v) => [v.name, v.type.tensorType.elemType, shape(v)])).toEqual([
      ['probabilities', 1, ['batch', LABELS.length]],
    ]);
    expect(model.graph.node.map((n) => n.opType)).toEqual(['Gather', 'Unsqueeze', 'Mul', 'ReduceSum', 'MatMul', 'Add', 'Softmax']);

    const init = Object.fromEntries(model.graph.initializer.map((t) => [t.name, t]));
    expect(init.embeddings!.dims).toEqual([2 ** 12, 16]);
    expect(init.out_weights!.dims).toEqual([16, LABELS.length]);
    expect(init.out_bias!.dims).toEqual([LABELS.length]);
    // Little-endian float32 bytes of the embedding table, as written.
    const raw = init.embeddings!.rawData!;
    const expectedBytes = new Uint8Array(weights.embeddings.buffer, weights.embeddings.byteOffset, weights.embeddings.byteLength);
    expect(Buffer.compare(raw, expectedBytes)).toBe(0);
    for (const t of model.graph.initializer) {
      expect(t.externalData ?? []).toEqual([]);
      expect(t.dataLocation ?? 0).toBe(0);
    }
    // Sizes: the embedding table dominates (4096 × 16 × 4 bytes).
    expect(bytes.byteLength).toBeGreaterThan(2 ** 12 * 16 * 4);
    expect(bytes.byteLength).toBeLessThan(2 ** 12 * 16 * 4 + 4096);
  });

  it('is deterministic', () => {
    const a = exportOnnx(weights, { spec: SPEC });
    const b = exportOnnx(weights, { spec: SPEC });
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('refuses weights that do not fit the spec', () => {
    expect(() => exportOnnx(weights, { spec: DEFAULT_FEATURIZER_SPEC })).toThrow(/buckets/);
    expect(() => exportOnnx({ ...weights, outBias: new Float32Array(1) })).toThrow(/outBias/);
  });

  it('PARITY: ONNX Runtime computes what the TypeScript forward pass computes (within 1e-5)', async () => {
    const bytes = exportOnnx(weights, { spec: SPEC });
    const { probs, classes } = await runOnnx(bytes, TEXTS, SPEC);
    expect(classes).toBe(LABELS.length);
    const error = maxParityError(probs, TEXTS, SPEC, weights);
    console.log(`ONNX parity (dim 16, 2^12 buckets, ${TEXTS.length} texts): max abs error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-5);
    // The rows are not all alike: the check would be weak if the model said the same for every text.
    const spread = Math.max(...Array.from(probs)) - Math.min(...Array.from(probs));
    expect(spread).toBeGreaterThan(0.3);
  });

  it('PARITY with the full default spec: dim 16, 2^20 buckets (a 64 MiB model)', async () => {
    const big = randomWeights(['ok', 'toxic'], 16, DEFAULT_FEATURIZER_SPEC.buckets, mulberry32(7));
    const bytes = exportOnnx(big, { spec: DEFAULT_FEATURIZER_SPEC });
    console.log(`ONNX size, dim 16 / 2^20 buckets / 2 labels: ${bytes.byteLength} bytes (${(bytes.byteLength / 2 ** 20).toFixed(2)} MiB)`);
    expect(bytes.byteLength).toBeGreaterThan(2 ** 20 * 16 * 4);
    const { probs } = await runOnnx(bytes, TEXTS, DEFAULT_FEATURIZER_SPEC);
    expect(maxParityError(probs, TEXTS, DEFAULT_FEATURIZER_SPEC, big)).toBeLessThan(1e-5);
  });

  it('a single empty text runs (one padded column) and yields softmax(bias)', async () => {
    const bytes = exportOnnx(weights);
    const { probs } = await runOnnx(bytes, [''], SPEC);
    expect(maxParityError(probs, [''], SPEC, weights)).toBeLessThan(1e-6);
  });
});

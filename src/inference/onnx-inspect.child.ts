/**
 * Child-process entry of onnx-inspector.ts: loads one untrusted ONNX file in onnxruntime, reads
 * its signature and runs it once on zero-filled inputs, then reports over the IPC channel and
 * exits. It runs in a fresh `node` under a time and memory limit set by the parent, so a model
 * that crashes, hangs or exhausts memory takes only this process down.
 *
 * Usage (by the parent only): node onnx-inspect.child.js <model.onnx>, with an IPC channel.
 */
import * as ort from 'onnxruntime-node';
import type { ModelSignature, TensorInfo } from '../domain/model/index.js';

/** What the child sends the parent: one message, then it exits 0. */
export type InspectChildResult =
  | {
      readonly ok: true;
      readonly signature: ModelSignature;
      /** Whether the smoke run happened; `note` says why not. */
      readonly ran: boolean;
      readonly note?: string;
    }
  | { readonly ok: false; readonly stage: 'load' | 'run'; readonly message: string };

type ZeroArray = ort.Tensor['data'];

const ZEROS: Partial<Record<ort.Tensor.Type, (n: number) => ZeroArray>> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  float16: (n) => new Uint16Array(n),
  int8: (n) => new Int8Array(n),
  uint8: (n) => new Uint8Array(n),
  int16: (n) => new Int16Array(n),
  uint16: (n) => new Uint16Array(n),
  int32: (n) => new Int32Array(n),
  uint32: (n) => new Uint32Array(n),
  int64: (n) => new BigInt64Array(n),
  uint64: (n) => new BigUint64Array(n),
  bool: (n) => new Uint8Array(n),
};

const describe = (m: ort.InferenceSession.ValueMetadata): TensorInfo =>
  m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };

/** onnxruntime's messages carry colour codes and build paths; keep what a person can act on. */
function clean(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .replace(/\u001b\[[0-9;]*m/g, '') // eslint-disable-line no-control-regex
    .replace(/\/onnxruntime_src\/\S+:\d+ /g, '')
    .replace(/onnxruntime::[\w:~<>]+\([^)]*\) ?/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 1000);
}

/**
 * Zero-filled feeds of the declared types and shapes, every symbolic dimension set to 1; or why
 * no smoke run is possible (an input a caller could not send either).
 */
function zeroFeeds(inputs: readonly ort.InferenceSession.ValueMetadata[]): Record<string, ort.Tensor> | string {
  const feeds: Record<string, ort.Tensor> = {};
  for (const m of inputs) {
    if (!m.isTensor) return `input "${m.name}" is not a tensor`;
    const make = ZEROS[m.type];
    if (!make) return `input "${m.name}" is a ${m.type} tensor`;
    const dims = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
    // A huge fixed shape fails here with RangeError ("Array buffer allocation failed"): reported as run-stage.
    feeds[m.name] = new ort.Tensor(m.type, make(dims.reduce((n, d) => n * d, 1)) as never, dims);
  }
  return feeds;
}

async function inspect(file: string): Promise<InspectChildResult> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, {
      // One thread each: inspection must not compete with the server for cores, and fewer
      // threads mean fewer stacks counted against the data limit.
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // Without the arena, onnxruntime asks the OS for what each tensor needs rather than growing
      // in power-of-two chunks, so the memory limit measures the model, not the arena's rounding.
      enableCpuMemArena: false,
      logSeverityLevel: 3,
    });
  } catch (error) {
    return { ok: false, stage: 'load', message: clean(error) };
  }
  const signature: ModelSignature = { inputs: session.inputMetadata.map(describe), outputs: session.outputMetadata.map(describe) };

  try {
    const feeds = zeroFeeds(session.inputMetadata);
    if (typeof feeds === 'string') return { ok: true, signature, ran: false, note: `no test run: ${feeds}` };
    await session.run(feeds);
  } catch (error) {
    return { ok: false, stage: 'run', message: clean(error) };
  }
  return { ok: true, signature, ran: true };
}

const file = process.argv[2];
if (file === undefined || !process.send) {
  console.error('usage: node onnx-inspect.child.js <model.onnx>, spawned with an IPC channel');
  process.exit(2);
}
const result = await inspect(file);
process.send(result, () => process.exit(0));

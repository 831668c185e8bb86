import * as ort from 'onnxruntime-node';
import { ONNX_INPUT_IDS, ONNX_INPUT_WEIGHTS, type FeatureBatch, type TensorInfo } from '../domain/index.js';

/** A tensor going in or out, in the typed array onnxruntime uses for its element type. */
export interface TensorValue {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ort.Tensor['data'];
}

const describe = (m: ort.InferenceSession.ValueMetadata): TensorInfo =>
  m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };

/**
 * One loaded model version. onnxruntime runs it on its own threads; a session is reused by every
 * request for that version and released only when nothing is running on it any more.
 */
export class OnnxSession {
  /** Runs in progress plus callers holding a lease (waiting in a micro-batch, say). */
  private running = 0;
  private retired = false;
  private released: Promise<void> | undefined;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputs: readonly TensorInfo[],
    readonly outputs: readonly TensorInfo[],
  ) {}

  /** Loads from bytes already validated at registration (see onnx-inspector.ts). */
  static async load(bytes: Uint8Array, options: { threads?: number } = {}): Promise<OnnxSession> {
    const session = await ort.InferenceSession.create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new OnnxSession(session, session.inputMetadata.map(describe), session.outputMetadata.map(describe));
  }

  /** The built-in text graph: featurized rows in, one probability row per text out. */
  async classify(batch: FeatureBatch): Promise<{ probabilities: Float32Array; classes: number }> {
    const [output] = await this.run([
      { name: ONNX_INPUT_IDS, type: 'int64', dims: [batch.batch, batch.length], data: batch.ids },
      { name: ONNX_INPUT_WEIGHTS, type: 'float32', dims: [batch.batch, batch.length], data: batch.weights },
    ]);
    if (!output || !(output.data instanceof Float32Array) || output.dims.length !== 2 || output.dims[0] !== batch.batch) {
      throw new Error(`the model returned ${output ? `${output.type} [${output.dims.join(', ')}]` : 'nothing'}, not float32 [${batch.batch}, classes]`);
    }
    return { probabilities: output.data, classes: output.dims[1]! };
  }

  /**
   * Keeps the session alive until the returned function is called, even if it is retired
   * meanwhile (evicted from the cache): a call that picked this session finishes on it.
   */
  lease(): () => void {
    if (this.released) throw new Error('session was released');
    this.running++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.running--;
      if (this.retired && this.running === 0) void this.release();
    };
  }

  async run(inputs: readonly TensorValue[]): Promise<TensorValue[]> {
    if (this.released) throw new Error('session was released');
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) feeds[input.name] = new ort.Tensor(input.type as ort.Tensor.Type, input.data as never, input.dims);
    const done = this.lease();
    try {
      const results = await this.session.run(feeds);
      return this.outputs.map(({ name }) => {
        const t = results[name]!;
        return { name, type: t.type, dims: t.dims, data: t.data };
      });
    } finally {
      done();
    }
  }

  /** Frees the native session once the runs in progress are done. */
  retire(): void {
    this.retired = true;
    if (this.running === 0) void this.release();
  }

  private release(): Promise<void> {
    return (this.released ??= this.session.release().catch(() => {}));
  }
}

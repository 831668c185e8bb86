/**
 * Validates an uploaded ONNX file before it is registered. Malformed models have crashed
 * onnxruntime, so the server process never loads an untrusted file: it decodes the protobuf itself
 * (protobufjs is memory-safe JavaScript) to reject what is plainly not a self-contained ONNX model,
 * then loads and test-runs the file in a fresh child process (onnx-inspect.child.ts) under a time
 * limit and a memory limit, and turns every way that can end into an OnnxInspectionError code.
 *
 * Memory limit: the child runs under RLIMIT_DATA (`ulimit -d` in /bin/sh, which then execs node).
 * Since Linux 4.7 RLIMIT_DATA counts every private writable mapping, so it caps what onnxruntime
 * allocates natively (malloc and mmap alike), which V8's --max-old-space-size never sees.
 * RLIMIT_AS was rejected: it also counts address space node reserves but never uses (V8's
 * reservations), so node 20 with onnxruntime loaded needs about 1.1 GiB of it to start while using
 * about 85 MB, and the overhead varies by machine. Measured on node 20.20 / onnxruntime-node 1.30 /
 * Debian 12 x64 (2 cores), the child loads and runs a tiny model with about 100 MiB of data
 * (compiled) or 130 MiB (under tsx); most of that is the 8 MiB stacks of its ~12 threads, which
 * count as data. Below that node aborts or traps while starting, and below about 48 MiB it hangs,
 * hence MIN_INSPECT_MEMORY_BYTES. A 64 MiB model (2^20 × 16 fastText) needs about 288 MiB, as
 * onnxruntime holds the file's bytes and its own copy of the weights while loading: allow roughly
 * 128 MiB + 3 × the file size. Over the limit onnxruntime fails with std::bad_alloc or "Failed to
 * allocate memory", V8 with "out of memory"; all become OUT_OF_MEMORY.
 *
 * External data: tensors stored outside the file could make onnxruntime read other files beside
 * the model. Initializers of the main graph that reference external data are rejected up front
 * (EXTERNAL_DATA). onnx-schema.ts does not describe attribute tensors (Constant values) or
 * subgraphs (If/Loop bodies), so those cannot be checked here; instead the child loads a hard link
 * to the file, under a random name, alone in a fresh directory (onnxruntime 1.30 refuses absolute
 * external paths and paths leaving the model's directory), so any such reference fails to load.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import protobuf from 'protobufjs/light.js';
import { onnxModelType, type ModelSignature, type TensorInfo } from '../domain/model/index.js';
import type { InspectChildResult } from './onnx-inspect.child.js';

export interface OnnxInspection {
  /** Inputs and outputs as onnxruntime reports them. */
  readonly signature: ModelSignature;
  readonly irVersion: number;
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  /** producer_name and producer_version, e.g. "pytorch 2.3.1" ('' when the file names none). */
  readonly producer: string;
  /** The file's metadata_props. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Whether the model ran once on zero-filled inputs; `note` says why not (e.g. a string input). */
  readonly smokeRun: { readonly ran: boolean; readonly note?: string };
}

export type OnnxProblemCode = 'NOT_ONNX' | 'EXTERNAL_DATA' | 'LOAD_FAILED' | 'RUN_FAILED' | 'TIMEOUT' | 'OUT_OF_MEMORY' | 'CRASHED';

/** Why a file was rejected; the message is meant for the person who uploaded it. */
export class OnnxInspectionError extends Error {
  override readonly name = 'OnnxInspectionError';
  constructor(
    readonly problem: OnnxProblemCode,
    message: string,
  ) {
    super(message);
  }
}

export interface InspectLimits {
  /** Wall-clock limit for the child, node start-up included (about 0.2 s, 0.5 s under tsx). */
  readonly timeoutMs: number;
  /** RLIMIT_DATA of the child: node, onnxruntime, the model and the test run together. */
  readonly memoryBytes: number;
}

/**
 * Node with onnxruntime needs 100 to 130 MiB just to start (see above); below this limit every
 * file would be rejected, so a smaller one is a configuration error.
 */
export const MIN_INSPECT_MEMORY_BYTES = 256 * 1024 * 1024;

/** Exit status of the shell wrapper when it cannot set the limit (a host problem, not the file's). */
const LIMIT_FAILED = 71;
/** What is kept of the child's stdout and stderr, for messages. */
const OUTPUT_TAIL_BYTES = 4096;
const OUT_OF_MEMORY = /bad_alloc|out of memory|\bOOM\b|failed to allocate|allocation failed|cannot allocate memory|ENOMEM/i;
const TENSOR_EXTERNAL = 1; // TensorProto.DataLocation.EXTERNAL

/**
 * Inspects the ONNX file at `file`: its signature (from onnxruntime), IR version, opsets, producer
 * and metadata. Throws OnnxInspectionError when the file is not a self-contained ONNX model that
 * onnxruntime loads and runs within the limits; other errors are bugs or host problems.
 */
export async function inspectOnnxFile(file: string, limits: InspectLimits): Promise<OnnxInspection> {
  if (!(limits.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${limits.timeoutMs}`);
  if (!(limits.memoryBytes >= MIN_INSPECT_MEMORY_BYTES)) {
    throw new RangeError(`memoryBytes must be at least ${MIN_INSPECT_MEMORY_BYTES} (node needs that much to start), got ${limits.memoryBytes}`);
  }
  const header = await readHeader(await readFile(file));
  const isolated = await isolate(file);
  try {
    const result = await runChild(isolated.file, limits);
    return { ...header, signature: result.signature, smokeRun: result.note === undefined ? { ran: result.ran } : { ran: result.ran, note: result.note } };
  } finally {
    await isolated.remove();
  }
}

type Header = Omit<OnnxInspection, 'signature' | 'smokeRun'>;

/** More opset imports and metadata entries than any real model has; each costs an object here. */
const MAX_HEADER_ENTRIES = 10_000;
/** Fields scanned between yields to the event loop (a few milliseconds' work). */
const FIELDS_PER_SLICE = 200_000;

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

/** Field numbers, from the schema the exporter writes with. */
function fieldIds() {
  const model = onnxModelType();
  const type = (name: string) => model.root.lookupType(`onnx.${name}`);
  const id = (t: protobuf.Type, field: string) => t.fields[field]!.id;
  const graph = type('GraphProto');
  const tensor = type('TensorProto');
  return {
    model: {
      irVersion: id(model, 'irVersion'),
      producerName: id(model, 'producerName'),
      producerVersion: id(model, 'producerVersion'),
      graph: id(model, 'graph'),
      opsetImport: id(model, 'opsetImport'),
      metadataProps: id(model, 'metadataProps'),
    },
    graph: { node: id(graph, 'node'), input: id(graph, 'input'), output: id(graph, 'output'), initializer: id(graph, 'initializer') },
    tensor: { name: id(tensor, 'name'), externalData: id(tensor, 'externalData'), dataLocation: id(tensor, 'dataLocation') },
    opset: type('OperatorSetIdProto'),
    entry: type('StringStringEntryProto'),
  };
}
let ids: ReturnType<typeof fieldIds> | undefined;

/** int64 fields read as Long objects when the long package is present, as numbers otherwise. */
const toNumber = (v: unknown): number =>
  typeof v === 'number' ? v : typeof v === 'object' && v !== null && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : NaN;

const notOnnx = (why: string) => new OnnxInspectionError('NOT_ONNX', `The file is not an ONNX model: ${why}.`);

/**
 * The cheap checks, in this process, by walking the protobuf wire format rather than decoding
 * the whole message: a full decode turns every element of a repeated field into a JS value, so
 * a 15 MiB file of packed int64s becomes 1 GiB of heap and 5 s of blocked event loop. Here
 * tensors' data, nodes and value infos are skipped over (raw_data is never copied), only the
 * header's few entries become objects, and the walk yields to the event loop now and then.
 */
async function readHeader(bytes: Uint8Array): Promise<Header> {
  if (bytes.byteLength === 0) throw notOnnx('it is empty');
  try {
    return await scanModel(bytes);
  } catch (error) {
    if (error instanceof OnnxInspectionError) throw error;
    throw notOnnx(`it does not decode as an ONNX ModelProto (${(error as Error).message})`);
  }
}

async function scanModel(bytes: Uint8Array): Promise<Header> {
  const F = (ids ??= fieldIds());
  const r = protobuf.Reader.create(bytes);
  let fields = 0;
  /** Reads the next tag, yielding to the event loop every FIELDS_PER_SLICE fields. */
  const nextTag = async (): Promise<{ field: number; wire: number }> => {
    if (++fields % FIELDS_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const tag = r.uint32();
    return { field: tag >>> 3, wire: tag & 7 };
  };
  /** The end of the length-delimited field at the reader (after its length prefix). */
  const messageEnd = (wire: number, what: string): number => {
    if (wire !== WIRE_LENGTH_DELIMITED) throw notOnnx(`its ${what} field has the wrong wire type`);
    const end = r.uint32() + r.pos;
    if (end > r.len) throw notOnnx(`it is cut short inside its ${what}`);
    return end;
  };
  const varint = (wire: number, what: string): number => {
    if (wire !== WIRE_VARINT) throw notOnnx(`its ${what} field has the wrong wire type`);
    return toNumber(r.int64());
  };
  /** A field inside a message that runs past the message's end: lengths that do not nest. */
  const overrun = (end: number, what: string): void => {
    if (r.pos > end) throw notOnnx(`its fields overrun ${what}`);
  };
  const text = (wire: number, what: string): string => {
    if (wire !== WIRE_LENGTH_DELIMITED) throw notOnnx(`its ${what} field has the wrong wire type`);
    return r.string();
  };

  let irVersion = 0;
  let producerName = '';
  let producerVersion = '';
  let hasGraph = false;
  let nodes = 0;
  let inputs = 0;
  let outputs = 0;
  const opsets: { domain: string; version: number }[] = [];
  const metadata = new Map<string, string>();
  let entries = 0;
  const countEntry = () => {
    if (++entries > MAX_HEADER_ENTRIES) throw notOnnx(`it has more than ${MAX_HEADER_ENTRIES} opset imports and metadata entries`);
  };

  /** An initializer: only its name and where its data lives matter here. */
  const scanTensor = async (end: number): Promise<void> => {
    let name = '';
    let external = false;
    let location: string | undefined;
    while (r.pos < end) {
      const { field, wire } = await nextTag();
      if (field === F.tensor.name) name = text(wire, 'tensor name');
      else if (field === F.tensor.dataLocation) {
        const where = varint(wire, 'tensor data location'); // read it even when already external: it moves the reader on
        if (where === TENSOR_EXTERNAL) external = true;
      }
      else if (field === F.tensor.externalData) {
        external = true;
        const entryEnd = messageEnd(wire, 'external data');
        const entry = F.entry.toObject(F.entry.decode(r.buf.subarray(r.pos, entryEnd))) as { key?: string; value?: string };
        if (entry.key === 'location') location = entry.value;
        r.pos = entryEnd;
      } else r.skipType(wire);
    }
    overrun(end, 'an initializer');
    if (external) {
      throw new OnnxInspectionError(
        'EXTERNAL_DATA',
        `Initializer "${name}" keeps its data in an external file${location ? ` ("${location}")` : ''}; ` +
          'upload a self-contained model with every tensor inside the .onnx file (onnx.save_model(model, path, save_as_external_data=False)).',
      );
    }
  };

  const scanGraph = async (end: number): Promise<void> => {
    while (r.pos < end) {
      const { field, wire } = await nextTag();
      if (field === F.graph.initializer) {
        await scanTensor(messageEnd(wire, 'initializer'));
        continue;
      }
      if (field === F.graph.node) nodes++;
      else if (field === F.graph.input) inputs++;
      else if (field === F.graph.output) outputs++;
      r.skipType(wire);
    }
    overrun(end, 'the graph');
  };

  while (r.pos < r.len) {
    const { field, wire } = await nextTag();
    if (field === F.model.irVersion) irVersion = varint(wire, 'IR version');
    else if (field === F.model.producerName) producerName = text(wire, 'producer name');
    else if (field === F.model.producerVersion) producerVersion = text(wire, 'producer version');
    else if (field === F.model.graph) {
      // A message field given twice is merged, so counting across both is what a decoder sees.
      hasGraph = true;
      await scanGraph(messageEnd(wire, 'graph'));
    } else if (field === F.model.opsetImport || field === F.model.metadataProps) {
      countEntry();
      const end = messageEnd(wire, 'opset import or metadata');
      const sub = r.buf.subarray(r.pos, end);
      if (field === F.model.opsetImport) {
        const o = F.opset.toObject(F.opset.decode(sub), { longs: Number }) as { domain?: string; version?: number };
        opsets.push({ domain: o.domain ?? '', version: o.version ?? 0 });
      } else {
        const e = F.entry.toObject(F.entry.decode(sub)) as { key?: string; value?: string };
        metadata.set(e.key ?? '', e.value ?? '');
      }
      r.pos = end;
    } else r.skipType(wire);
  }

  if (!(irVersion > 0)) throw notOnnx('it declares no IR version');
  if (!hasGraph) throw notOnnx('it has no graph');
  if (nodes === 0) throw notOnnx('its graph has no nodes');
  if (inputs === 0) throw notOnnx('its graph declares no inputs');
  if (outputs === 0) throw notOnnx('its graph declares no outputs');
  return {
    irVersion,
    opsets,
    producer: [producerName, producerVersion].filter((s) => s).join(' '),
    metadata: Object.freeze(Object.fromEntries(metadata)),
  };
}

/**
 * A hard link to the file (a copy where linking fails) under a random name, alone in a fresh
 * directory: relative external-data references, which onnxruntime confines to the model's
 * directory, then find nothing to read.
 */
async function isolate(file: string): Promise<{ file: string; remove: () => Promise<void> }> {
  let dir: string;
  try {
    dir = await mkdtemp(path.join(path.dirname(file), '.onnx-inspect-'));
  } catch {
    dir = await mkdtemp(path.join(tmpdir(), 'onnx-inspect-'));
  }
  const remove = () => rm(dir, { recursive: true, force: true });
  const target = path.join(dir, `${randomUUID()}.onnx`);
  try {
    await link(file, target).catch(() => copyFile(file, target));
  } catch (error) {
    await remove();
    throw error;
  }
  return { file: target, remove };
}

/**
 * How to start the child: the compiled sibling under plain node (production, `dist/`), or the
 * TypeScript source through tsx (tests and dev, which have only `src/`). The parent's execArgv is
 * not passed on: vitest's and tsx's flags are theirs, not the child's.
 */
function childArgs(): string[] {
  const js = fileURLToPath(new URL('./onnx-inspect.child.js', import.meta.url));
  if (existsSync(js)) return [js];
  const ts = fileURLToPath(new URL('./onnx-inspect.child.ts', import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx, ts];
}

/** Only what node and onnxruntime need; the server's secrets and NODE_OPTIONS stay behind. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', OMP_NUM_THREADS: '1' };
  for (const key of ['TMPDIR', 'LANG', 'TZ']) if (process.env[key] !== undefined) env[key] = process.env[key];
  return env;
}

/** The last `limit` bytes written to a stream. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all
      .subarray(Math.max(0, all.length - this.limit))
      .toString('utf8')
      .replace(/\u001b\[[0-9;]*m/g, '') // eslint-disable-line no-control-regex
      .trim();
  }
}

type ChildOk = Extract<InspectChildResult, { ok: true }>;

function runChild(file: string, limits: InspectLimits): Promise<ChildOk> {
  const memoryKiB = Math.floor(limits.memoryBytes / 1024);
  const memoryMiB = Math.round(limits.memoryBytes / 2 ** 20);
  return new Promise<ChildOk>((resolve, reject) => {
    // sh sets the limit, then execs node in its place: the limit holds for node and everything
    // it loads, and the pid (for SIGKILL, and for the signal that ended it) is node's. The raised
    // oom_score_adj makes the child, not the server, the kernel's victim should the machine or
    // container run out of memory before the child reaches its own limit.
    const script = `ulimit -d "$1" || exit ${LIMIT_FAILED}; { echo 1000 >/proc/self/oom_score_adj; } 2>/dev/null; shift; exec "$@"`;
    const child = spawn(
      '/bin/sh',
      ['-c', script, 'onnx-inspect', String(memoryKiB), process.execPath, ...childArgs(), file],
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: childEnv(), cwd: path.dirname(file), serialization: 'json' },
    );
    const output = new Tail(OUTPUT_TAIL_BYTES);
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk));
    let message: unknown;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limits.timeoutMs);
    child.on('message', (m: unknown) => {
      message ??= m;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const fail = (problem: ConstructorParameters<typeof OnnxInspectionError>[0], text: string) => reject(new OnnxInspectionError(problem, text));
      const tail = output.text();
      const lastLines = tail.split('\n').slice(-3).join(' | ').slice(-600);
      const outOfMemory = (detail: string) =>
        fail('OUT_OF_MEMORY', `The model needs more memory than the ${memoryMiB} MiB allowed for checking an upload (${detail}).`);

      if (message !== undefined) {
        const result = readResult(message);
        if (!result) return fail('CRASHED', 'The model inspector sent a result it could not read.');
        if (result.ok) return resolve(result);
        if (OUT_OF_MEMORY.test(result.message)) return outOfMemory(result.message);
        return result.stage === 'load'
          ? fail('LOAD_FAILED', `onnxruntime cannot load the model: ${result.message}`)
          : fail('RUN_FAILED', `The model loads but fails on a test run with zero-filled inputs (symbolic dimensions set to 1): ${result.message}`);
      }
      if (timedOut) return fail('TIMEOUT', `Loading and test-running the model took longer than the ${limits.timeoutMs} ms allowed.`);
      if (code === LIMIT_FAILED && signal === null) return reject(new Error(`could not set the inspector's memory limit (ulimit -d ${memoryKiB}): ${lastLines}`));
      if (OUT_OF_MEMORY.test(tail)) return outOfMemory(lastLines);
      // A SIGKILL we did not send comes from the kernel's (or a cgroup's) out-of-memory killer.
      if (signal === 'SIGKILL') return outOfMemory('the process was killed by SIGKILL, as the system does when memory runs out');
      if (signal !== null) {
        return fail('CRASHED', `onnxruntime crashed (${signal}) while loading or test-running the model${lastLines ? `: ${lastLines}` : ''}.`);
      }
      return fail('CRASHED', `The model inspector exited with status ${code} without a result${lastLines ? `: ${lastLines}` : ''}.`);
    });
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isTensorInfo = (v: unknown): v is TensorInfo =>
  isRecord(v) && typeof v['name'] === 'string' && typeof v['type'] === 'string' && Array.isArray(v['shape']) &&
  v['shape'].every((d) => typeof d === 'number' || typeof d === 'string');

/** The child's message, checked rather than trusted: it ran an untrusted model. */
function readResult(m: unknown): InspectChildResult | undefined {
  if (!isRecord(m)) return undefined;
  if (m['ok'] === false) {
    return (m['stage'] === 'load' || m['stage'] === 'run') && typeof m['message'] === 'string'
      ? { ok: false, stage: m['stage'], message: m['message'] }
      : undefined;
  }
  const sig = m['signature'];
  if (m['ok'] !== true || !isRecord(sig) || typeof m['ran'] !== 'boolean') return undefined;
  const { inputs, outputs } = sig;
  if (!Array.isArray(inputs) || !inputs.every(isTensorInfo) || !Array.isArray(outputs) || !outputs.every(isTensorInfo)) return undefined;
  return {
    ok: true,
    signature: { inputs, outputs },
    ran: m['ran'],
    ...(typeof m['note'] === 'string' ? { note: m['note'] } : {}),
  };
}

/**
 * What an ONNX model takes and gives, as onnxruntime reports it, and the rules for serving it: a
 * text classifier must take exactly what the featurizer produces; a generic tensor model served by
 * `predict` must take numeric tensors, which callers send as JSON and which are checked here
 * against the signature before anything reaches onnxruntime.
 */

export type TensorElementType =
  | 'float32'
  | 'float64'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'float16'
  | 'string';

/** The `type` given to an input or output that is not a tensor (a sequence or a map). */
export const NON_TENSOR_TYPE = 'non-tensor';

export interface TensorInfo {
  readonly name: string;
  /** A TensorElementType, or what onnxruntime reported for a type not listed there (`non-tensor`, `int4`…). */
  readonly type: TensorElementType | string;
  /** A number is a fixed size; a string a symbolic one (e.g. 'batch'), free at run time. */
  readonly shape: readonly (number | string)[];
}

export interface ModelSignature {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}

export interface SignatureViolation {
  readonly field: string;
  readonly message: string;
}

/** `float32 [batch, 3]`: how messages show a declared tensor. */
export function describeTensor(t: Pick<TensorInfo, 'type' | 'shape'>): string {
  return `${t.type} [${t.shape.join(', ')}]`;
}

/**
 * A dimension whose size is left to run time: a named symbol, or an unnamed dynamic one
 * (onnxruntime reports those as '' or as a negative number).
 */
function isFree(d: number | string): boolean {
  return typeof d === 'string' || d < 0;
}

const TEXT_INPUTS = [
  { name: 'ids', type: 'int64' },
  { name: 'weights', type: 'float32' },
] as const;

/**
 * The first reason this signature cannot be fed by the platform's featurizer, or undefined: the
 * inputs are exactly `ids` int64 [batch, length] and `weights` float32 [batch, length] (in any
 * order, both dimensions free, since every batch has its own size and row length), and the first
 * output is float32 [batch, labelCount] (the label dimension may be symbolic).
 */
export function checkTextClassifierSignature(sig: ModelSignature, labelCount: number): SignatureViolation | undefined {
  const names = sig.inputs.map((i) => i.name);
  const expected = TEXT_INPUTS.map((i) => i.name);
  if (names.length !== expected.length || !expected.every((n) => names.includes(n))) {
    return {
      field: 'inputs',
      message:
        'a text classifier must take exactly two inputs, "ids" (int64 [batch, length]) and "weights" (float32 [batch, length]); ' +
        `the model declares ${sig.inputs.length === 0 ? 'none' : sig.inputs.map((i) => `"${i.name}" (${describeTensor(i)})`).join(', ')}`,
    };
  }
  for (const want of TEXT_INPUTS) {
    const got = sig.inputs.find((i) => i.name === want.name)!;
    if (got.type !== want.type || got.shape.length !== 2) {
      return {
        field: `inputs.${want.name}`,
        message: `input "${want.name}" must be ${want.type} of rank 2 [batch, length]; the model declares ${describeTensor(got)}`,
      };
    }
    if (!got.shape.every(isFree)) {
      return {
        field: `inputs.${want.name}`,
        message:
          `input "${want.name}" must have symbolic dimensions [batch, length], because each call has its own batch size and row length; ` +
          `the model fixes them: ${describeTensor(got)}`,
      };
    }
  }
  const out = sig.outputs[0];
  if (!out) return { field: 'outputs', message: `a text classifier must have an output float32 [batch, ${labelCount}]; the model declares none` };
  const [batch, classes] = out.shape;
  if (out.type !== 'float32' || out.shape.length !== 2 || batch === undefined || classes === undefined) {
    return {
      field: `outputs.${out.name}`,
      message: `output "${out.name}" (the first output) must be float32 of rank 2 [batch, ${labelCount}]; the model declares ${describeTensor(out)}`,
    };
  }
  if (!isFree(batch)) {
    return {
      field: `outputs.${out.name}`,
      message: `output "${out.name}" must have a symbolic batch dimension [batch, ${labelCount}]; the model fixes it: ${describeTensor(out)}`,
    };
  }
  if (!isFree(classes) && classes !== labelCount) {
    return {
      field: `outputs.${out.name}`,
      message: `output "${out.name}" gives ${classes} scores per row but the model has ${labelCount} labels; the model declares ${describeTensor(out)}`,
    };
  }
  return undefined;
}

interface ElementKind {
  /** Integer range, for integer types. */
  readonly min?: number;
  readonly max?: number;
  readonly float?: 'float32' | 'float64';
  readonly make: (n: number) => TensorData;
}

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** The element types a caller can send as JSON numbers, with the typed array onnxruntime takes for each. */
const FEEDABLE: Readonly<Record<string, ElementKind>> = {
  float32: { float: 'float32', make: (n) => new Float32Array(n) },
  float64: { float: 'float64', make: (n) => new Float64Array(n) },
  int8: { min: -128, max: 127, make: (n) => new Int8Array(n) },
  uint8: { min: 0, max: 255, make: (n) => new Uint8Array(n) },
  int16: { min: -32768, max: 32767, make: (n) => new Int16Array(n) },
  uint16: { min: 0, max: 65535, make: (n) => new Uint16Array(n) },
  int32: { min: -(2 ** 31), max: 2 ** 31 - 1, make: (n) => new Int32Array(n) },
  uint32: { min: 0, max: 2 ** 32 - 1, make: (n) => new Uint32Array(n) },
  // JSON numbers are doubles: 64-bit integers are exact only up to 2^53 − 1.
  int64: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, make: (n) => new BigInt64Array(n) },
  uint64: { min: 0, max: Number.MAX_SAFE_INTEGER, make: (n) => new BigUint64Array(n) },
  bool: { min: 0, max: 1, make: (n) => new Uint8Array(n) },
};

/** Why values of this type cannot be sent as JSON numbers, or undefined if they can. */
function unfeedable(type: string): string | undefined {
  if (type in FEEDABLE) return undefined;
  if (type === 'float16') return 'float16 inputs are not supported (send float32 to a model that takes float32)';
  if (type === 'string') return 'string inputs are not supported';
  if (type === NON_TENSOR_TYPE) return 'inputs that are not tensors (sequences, maps) are not supported';
  return `element type ${type} is not supported`;
}

/** Output types tensorOutputToJson() can turn into numbers. */
const READABLE_OUTPUTS = new Set([...Object.keys(FEEDABLE), 'float16']);

/**
 * The first reason a generic model cannot be served by `predict`, or undefined: it needs at least
 * one input and one output, every input a numeric tensor a caller can send as JSON numbers, and
 * every output a numeric or bool tensor.
 */
export function checkTensorModelSignature(sig: ModelSignature): SignatureViolation | undefined {
  if (sig.inputs.length === 0) return { field: 'inputs', message: 'the model declares no inputs; predict needs at least one' };
  if (sig.outputs.length === 0) return { field: 'outputs', message: 'the model declares no outputs; predict needs at least one' };
  for (const input of sig.inputs) {
    const why = input.type === 'bool' ? 'bool inputs are not supported' : unfeedable(input.type);
    if (why) return { field: `inputs.${input.name}`, message: `input "${input.name}" is ${describeTensor(input)}: ${why}; every input must be a numeric tensor` };
  }
  for (const output of sig.outputs) {
    if (!READABLE_OUTPUTS.has(output.type)) {
      return {
        field: `outputs.${output.name}`,
        message: `output "${output.name}" is ${describeTensor(output)}; every output must be a numeric or bool tensor`,
      };
    }
  }
  return undefined;
}

export interface TensorInputLimits {
  /** The most elements all inputs of one call may hold together. */
  readonly maxElements: number;
}

export interface ParsedTensor {
  readonly name: string;
  readonly type: TensorElementType;
  readonly dims: readonly number[];
  /** The typed array onnxruntime takes for `type` (int64 → BigInt64Array, bool → Uint8Array…). */
  readonly data: TensorData;
}

/** The caller's tensors do not fit the model; `problems` lists every one found, for the caller. */
export class TensorInputError extends Error {
  override readonly name = 'TensorInputError';
  constructor(readonly problems: readonly string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems with the inputs: ${problems.join('; ')}`);
  }
}

/** Enough to act on without drowning the caller (a 10^6-element input can be wrong everywhere). */
const MAX_PROBLEMS = 20;

interface RawTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: readonly unknown[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDim = (d: unknown): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0;
const showDims = (dims: readonly unknown[]): string => `[${dims.map((d) => JSON.stringify(d) ?? String(d)).join(', ')}]`;

/**
 * Checks a caller's JSON tensors, `[{ name, dims, data }]`, against the model's inputs and returns
 * them as typed arrays in the signature's input order; throws TensorInputError listing every
 * problem. Every declared input must be given once and nothing else; dims must match the declared
 * rank and fixed sizes, and a symbol used by several inputs (`batch`) must have one size; data
 * holds product(dims) finite numbers, integers within range for integer types (int64 and uint64:
 * safe integers, the most a JSON number holds exactly).
 */
export function parseTensorInputs(sig: ModelSignature, inputs: unknown, limits: TensorInputLimits): ParsedTensor[] {
  const problems: string[] = [];
  if (!Array.isArray(inputs)) throw new TensorInputError(['inputs must be a list of { name, dims, data } objects']);

  const declared = new Map(sig.inputs.map((i) => [i.name, i]));
  const expectedList = sig.inputs.map((i) => `"${i.name}" (${describeTensor(i)})`).join(', ');
  const given = new Map<string, RawTensor>();
  const mentioned = new Set<string>();
  inputs.forEach((item: unknown, index) => {
    if (!isRecord(item)) return problems.push(`inputs[${index}] must be an object { name, dims, data }`);
    const { name, dims, data } = item;
    if (typeof name !== 'string') return problems.push(`inputs[${index}].name must be a string`);
    if (!declared.has(name)) return problems.push(`unknown input "${name}"; the model takes ${expectedList}`);
    if (mentioned.has(name)) return problems.push(`input "${name}" is given more than once`);
    mentioned.add(name);
    if (!Array.isArray(dims) || !dims.every(isDim)) {
      return problems.push(`input "${name}": dims must be a list of non-negative integers, got ${Array.isArray(dims) ? showDims(dims) : typeof dims}`);
    }
    if (!Array.isArray(data)) return problems.push(`input "${name}": data must be a list of numbers`);
    given.set(name, { name, dims, data });
  });
  for (const input of sig.inputs) {
    if (!mentioned.has(input.name)) {
      problems.push(`missing input "${input.name}" (${describeTensor(input)})`);
    }
  }

  // Shapes: rank, fixed sizes, one size per symbol, data length.
  const symbols = new Map<string, { size: number; input: string }>();
  let total = 0;
  for (const input of sig.inputs) {
    const raw = given.get(input.name);
    if (!raw) continue;
    const why = unfeedable(input.type);
    if (why) {
      problems.push(`input "${input.name}" is ${describeTensor(input)}: ${why}`);
      continue;
    }
    if (raw.dims.length !== input.shape.length) {
      problems.push(`input "${input.name}" has rank ${raw.dims.length} ${showDims(raw.dims)}; the model expects rank ${input.shape.length} [${input.shape.join(', ')}]`);
      continue;
    }
    input.shape.forEach((want, axis) => {
      const got = raw.dims[axis]!;
      if (typeof want === 'number' && want >= 0 && got !== want) {
        problems.push(`input "${input.name}" dim ${axis} must be ${want} (the model declares [${input.shape.join(', ')}]); got ${showDims(raw.dims)}`);
      } else if (typeof want === 'string' && want !== '') {
        const seen = symbols.get(want);
        if (!seen) symbols.set(want, { size: got, input: input.name });
        else if (seen.size !== got) {
          problems.push(`dimension "${want}" is ${seen.size} in input "${seen.input}" but ${got} in input "${input.name}"; it must be the same size in every input`);
        }
      }
    });
    const count = raw.dims.reduce((n, d) => n * d, 1);
    if (raw.data.length !== count) {
      problems.push(`input "${input.name}": data has ${raw.data.length} values but dims ${showDims(raw.dims)} need ${count}`);
    }
    total += count;
  }
  if (total > limits.maxElements) problems.push(`the inputs hold ${total} elements in all; the limit is ${limits.maxElements}`);
  if (problems.length > 0) throw new TensorInputError(capped(problems));

  // Values: only now that every length is known to be right and within the limit.
  const parsed: ParsedTensor[] = [];
  for (const input of sig.inputs) {
    const raw = given.get(input.name)!;
    const type = input.type as TensorElementType;
    const result = convert(raw, type, FEEDABLE[type]!);
    if (typeof result === 'string') problems.push(result);
    else parsed.push({ name: input.name, type, dims: [...raw.dims], data: result });
  }
  if (problems.length > 0) throw new TensorInputError(capped(problems));
  return parsed;
}

function capped(problems: string[]): string[] {
  return problems.length <= MAX_PROBLEMS ? problems : [...problems.slice(0, MAX_PROBLEMS), `… and ${problems.length - MAX_PROBLEMS} more problems`];
}

/** The typed array for one input, or the first bad value's problem (one per input is enough to act on). */
function convert(raw: RawTensor, type: TensorElementType, kind: ElementKind): TensorData | string {
  const out = kind.make(raw.data.length);
  const at = (i: number, v: unknown, what: string) =>
    `input "${raw.name}": data[${i}] = ${typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v))} ${what}`;
  for (let i = 0; i < raw.data.length; i++) {
    let v = raw.data[i];
    if (type === 'bool' && typeof v === 'boolean') v = v ? 1 : 0;
    if (typeof v !== 'number') return at(i, v, 'is not a number');
    if (!Number.isFinite(v)) return at(i, v, 'is not a finite number');
    if (kind.float === 'float32' && Math.abs(v) > 3.4028234663852886e38) return at(i, v, 'is out of range for float32');
    if (kind.min !== undefined && kind.max !== undefined) {
      if (!Number.isInteger(v)) return at(i, v, `is not an integer, as ${type} needs`);
      if (v < kind.min || v > kind.max) {
        return at(i, v, type === 'bool' ? 'must be 0, 1, true or false for bool' : `is out of range for ${type} [${kind.min}, ${kind.max}]`);
      }
    }
    if (out instanceof BigInt64Array || out instanceof BigUint64Array) out[i] = BigInt(v);
    else out[i] = v;
  }
  return out;
}

export interface TensorJson {
  readonly name: string;
  readonly type: string;
  readonly dims: number[];
  /**
   * The values as JSON numbers. NaN and ±Infinity, which JSON and GraphQL's Float cannot carry,
   * are null; 64-bit integers beyond ±2^53 come back rounded to the nearest double.
   */
  readonly data: (number | null)[];
}

/**
 * An output tensor as plain JSON numbers (float16 decoded from its bits, bigint → number, bool →
 * 0/1). String tensors throw: checkTensorModelSignature() keeps models that return them out.
 */
export function tensorOutputToJson(
  name: string,
  type: string,
  dims: readonly number[],
  data: ArrayLike<number> | ArrayLike<bigint> | readonly string[],
): TensorJson {
  const values: (number | null)[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const raw = data[i]!;
    if (typeof raw === 'string') throw new Error(`output "${name}" is a ${type} tensor of strings, not numbers`);
    const v = typeof raw === 'bigint' ? Number(raw) : type === 'float16' ? halfToNumber(raw) : raw;
    values[i] = Number.isFinite(v) ? v : null;
  }
  return { name, type, dims: [...dims], data: values };
}

/** IEEE 754 binary16 bits (as onnxruntime hands float16 out, in a Uint16Array) to a number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

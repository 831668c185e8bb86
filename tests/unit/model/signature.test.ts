import { describe, expect, it } from 'vitest';
import {
  checkTensorModelSignature,
  checkTextClassifierSignature,
  parseTensorInputs,
  TensorInputError,
  tensorOutputToJson,
  type ModelSignature,
  type TensorInfo,
} from '../../../src/domain/model/index.js';

const t = (name: string, type: string, shape: (number | string)[]): TensorInfo => ({ name, type, shape });

const TEXT: ModelSignature = {
  inputs: [t('ids', 'int64', ['batch', 'length']), t('weights', 'float32', ['batch', 'length'])],
  outputs: [t('probabilities', 'float32', ['batch', 3])],
};

describe('checkTextClassifierSignature', () => {
  it.each<[string, ModelSignature]>([
    ['the exported graph', TEXT],
    ['inputs in the other order', { ...TEXT, inputs: [TEXT.inputs[1]!, TEXT.inputs[0]!] }],
    ['a symbolic label dimension', { ...TEXT, outputs: [t('p', 'float32', ['N', 'classes'])] }],
    ['unnamed dynamic dimensions', { ...TEXT, inputs: [t('ids', 'int64', [-1, '']), t('weights', 'float32', [-1, -1])] }],
    ['extra outputs after the first', { ...TEXT, outputs: [...TEXT.outputs, t('logits', 'float32', ['batch', 3])] }],
  ])('accepts %s', (_, sig) => {
    expect(checkTextClassifierSignature(sig, 3)).toBeUndefined();
  });

  it.each<[string, ModelSignature, string, RegExp]>([
    ['a wrong input name', { ...TEXT, inputs: [TEXT.inputs[0]!, t('w', 'float32', ['batch', 'length'])] }, 'inputs', /exactly two inputs.*declares "ids" \(int64 \[batch, length\]\), "w"/],
    ['a missing input', { ...TEXT, inputs: [TEXT.inputs[0]!] }, 'inputs', /exactly two inputs/],
    ['an extra input', { ...TEXT, inputs: [...TEXT.inputs, t('mask', 'float32', ['batch', 'length'])] }, 'inputs', /"mask"/],
    ['no inputs', { ...TEXT, inputs: [] }, 'inputs', /declares none/],
    [
      'float ids',
      { ...TEXT, inputs: [t('ids', 'float32', [1, 10]), TEXT.inputs[1]!] },
      'inputs.ids',
      /^input "ids" must be int64 of rank 2 \[batch, length\]; the model declares float32 \[1, 10\]$/,
    ],
    ['rank-1 weights', { ...TEXT, inputs: [TEXT.inputs[0]!, t('weights', 'float32', ['length'])] }, 'inputs.weights', /float32 of rank 2.*float32 \[length\]/],
    ['fixed input dimensions', { ...TEXT, inputs: [t('ids', 'int64', [1, 10]), TEXT.inputs[1]!] }, 'inputs.ids', /symbolic dimensions.*fixes them: int64 \[1, 10\]/],
    ['no outputs', { ...TEXT, outputs: [] }, 'outputs', /declares none/],
    ['an int64 output', { ...TEXT, outputs: [t('label', 'int64', ['batch'])] }, 'outputs.label', /must be float32 of rank 2 \[batch, 3\]; the model declares int64 \[batch\]/],
    ['a fixed batch', { ...TEXT, outputs: [t('p', 'float32', [1, 3])] }, 'outputs.p', /symbolic batch dimension/],
    ['the wrong label count', { ...TEXT, outputs: [t('p', 'float32', ['batch', 2])] }, 'outputs.p', /gives 2 scores per row but the model has 3 labels/],
  ])('rejects %s', (_, sig, field, message) => {
    const violation = checkTextClassifierSignature(sig, 3);
    expect(violation?.field).toBe(field);
    expect(violation?.message).toMatch(message);
  });
});

describe('checkTensorModelSignature', () => {
  const LSTM: ModelSignature = { inputs: [t('series', 'float32', ['batch', 'steps', 4])], outputs: [t('forecast', 'float32', ['batch', 1])] };

  it.each<[string, ModelSignature]>([
    ['a float model', LSTM],
    ['int64 and uint8 inputs', { inputs: [t('ids', 'int64', ['n']), t('image', 'uint8', [1, 3, 224, 224])], outputs: LSTM.outputs }],
    ['bool and float16 outputs', { inputs: LSTM.inputs, outputs: [t('mask', 'bool', ['n']), t('half', 'float16', ['n'])] }],
  ])('accepts %s', (_, sig) => {
    expect(checkTensorModelSignature(sig)).toBeUndefined();
  });

  it.each<[string, ModelSignature, string, RegExp]>([
    ['no inputs', { inputs: [], outputs: LSTM.outputs }, 'inputs', /no inputs/],
    ['no outputs', { inputs: LSTM.inputs, outputs: [] }, 'outputs', /no outputs/],
    ['a string input', { inputs: [t('text', 'string', ['n'])], outputs: LSTM.outputs }, 'inputs.text', /string \[n\]: string inputs are not supported/],
    ['a bool input', { inputs: [t('flag', 'bool', [1])], outputs: LSTM.outputs }, 'inputs.flag', /bool inputs are not supported/],
    ['a float16 input', { inputs: [t('h', 'float16', [1])], outputs: LSTM.outputs }, 'inputs.h', /float16 inputs are not supported/],
    ['a sequence input', { inputs: [t('seq', 'non-tensor', [])], outputs: LSTM.outputs }, 'inputs.seq', /not tensors/],
    ['a string output', { inputs: LSTM.inputs, outputs: [t('label', 'string', ['batch'])] }, 'outputs.label', /numeric or bool tensor/],
    ['a map output', { inputs: LSTM.inputs, outputs: [t('probs', 'non-tensor', [])] }, 'outputs.probs', /numeric or bool tensor/],
  ])('rejects %s', (_, sig, field, message) => {
    const violation = checkTensorModelSignature(sig);
    expect(violation?.field).toBe(field);
    expect(violation?.message).toMatch(message);
  });
});

describe('parseTensorInputs', () => {
  const SIG: ModelSignature = {
    inputs: [t('x', 'float32', ['batch', 3]), t('ids', 'int64', ['batch', 'length'])],
    outputs: [t('y', 'float32', ['batch', 2])],
  };
  const LIMITS = { maxElements: 100 };
  const x = (dims: number[], data: unknown[]) => ({ name: 'x', dims, data });
  const ids = (dims: number[], data: unknown[]) => ({ name: 'ids', dims, data });

  const problemsOf = (sig: ModelSignature, inputs: unknown, limits = LIMITS): readonly string[] => {
    try {
      parseTensorInputs(sig, inputs, limits);
    } catch (error) {
      expect(error).toBeInstanceOf(TensorInputError);
      return (error as TensorInputError).problems;
    }
    throw new Error('expected a TensorInputError');
  };

  it('returns typed arrays in the signature order, whatever order they come in', () => {
    const parsed = parseTensorInputs(SIG, [ids([2, 1], [5, -7]), x([2, 3], [1, 2, 3, 4.5, 5, 6])], LIMITS);
    expect(parsed.map((p) => p.name)).toEqual(['x', 'ids']);
    expect(parsed[0]).toEqual({ name: 'x', type: 'float32', dims: [2, 3], data: new Float32Array([1, 2, 3, 4.5, 5, 6]) });
    expect(parsed[1]!.data).toEqual(new BigInt64Array([5n, -7n]));
    expect(parsed[1]!.dims).toEqual([2, 1]);
  });

  it.each<[string, string, (n: number[]) => unknown]>([
    ['float64', 'Float64Array', (v) => new Float64Array(v)],
    ['int8', 'Int8Array', (v) => new Int8Array(v)],
    ['uint8', 'Uint8Array', (v) => new Uint8Array(v)],
    ['int16', 'Int16Array', (v) => new Int16Array(v)],
    ['uint16', 'Uint16Array', (v) => new Uint16Array(v)],
    ['int32', 'Int32Array', (v) => new Int32Array(v)],
    ['uint32', 'Uint32Array', (v) => new Uint32Array(v)],
    ['uint64', 'BigUint64Array', (v) => new BigUint64Array(v.map(BigInt))],
    ['bool', 'Uint8Array', (v) => new Uint8Array(v)],
  ])('feeds %s as %s', (type, _, expected) => {
    const [parsed] = parseTensorInputs({ inputs: [t('v', type, [2])], outputs: [] }, [{ name: 'v', dims: [2], data: [0, 1] }], LIMITS);
    expect(parsed!.data).toEqual(expected([0, 1]));
  });

  it('takes true and false for bool', () => {
    const [parsed] = parseTensorInputs({ inputs: [t('m', 'bool', [2])], outputs: [] }, [{ name: 'm', dims: [2], data: [true, false] }], LIMITS);
    expect(parsed!.data).toEqual(new Uint8Array([1, 0]));
  });

  it('takes int64 values up to the largest safe integer', () => {
    const big = Number.MAX_SAFE_INTEGER;
    const [parsed] = parseTensorInputs({ inputs: [t('i', 'int64', [2])], outputs: [] }, [{ name: 'i', dims: [2], data: [big, -big] }], LIMITS);
    expect(parsed!.data).toEqual(new BigInt64Array([BigInt(big), -BigInt(big)]));
  });

  it('accepts empty tensors and scalars', () => {
    const sig: ModelSignature = { inputs: [t('e', 'float32', ['n', 2]), t('s', 'int32', [])], outputs: [] };
    const parsed = parseTensorInputs(sig, [{ name: 'e', dims: [0, 2], data: [] }, { name: 's', dims: [], data: [7] }], LIMITS);
    expect(parsed.map((p) => [p.dims, Array.from(p.data as Float32Array | Int32Array)])).toEqual([
      [[0, 2], []],
      [[], [7]],
    ]);
  });

  const good = [x([1, 3], [1, 2, 3]), ids([1, 2], [1, 2])];
  it.each<[string, unknown, RegExp]>([
    ['not a list', { x: [1, 2, 3] }, /inputs must be a list/],
    ['a non-object item', [...good, 5], /inputs\[2\] must be an object/],
    ['a missing name', [{ dims: [1], data: [1] }, ...good], /inputs\[0\]\.name must be a string/],
    ['a wrong name', [{ name: 'X', dims: [1, 3], data: [1, 2, 3] }, good[1]], /unknown input "X"; the model takes "x" \(float32 \[batch, 3\]\), "ids" \(int64 \[batch, length\]\)/],
    ['a missing input', [good[0]], /^missing input "ids" \(int64 \[batch, length\]\)$/],
    ['an extra input', [...good, { name: 'z', dims: [1], data: [1] }], /unknown input "z"/],
    ['a repeated input', [...good, good[0]], /input "x" is given more than once/],
    ['non-integer dims', [x([1.5, 3], [1, 2, 3]), good[1]], /input "x": dims must be a list of non-negative integers, got \[1\.5, 3\]/],
    ['negative dims', [x([-1, 3], [1, 2, 3]), good[1]], /dims must be a list of non-negative integers, got \[-1, 3\]/],
    ['missing data', [{ name: 'x', dims: [1, 3] }, good[1]], /input "x": data must be a list of numbers/],
    ['a rank mismatch', [x([3], [1, 2, 3]), good[1]], /input "x" has rank 1 \[3\]; the model expects rank 2 \[batch, 3\]/],
    ['a fixed dim mismatch', [x([1, 4], [1, 2, 3, 4]), good[1]], /input "x" dim 1 must be 3 \(the model declares \[batch, 3\]\); got \[1, 4\]/],
    ['an inconsistent symbolic dim', [x([2, 3], [1, 2, 3, 4, 5, 6]), good[1]], /dimension "batch" is 2 in input "x" but 1 in input "ids"/],
    ['a data length mismatch', [x([1, 3], [1, 2]), good[1]], /input "x": data has 2 values but dims \[1, 3\] need 3/],
    ['too many elements', [x([30, 3], new Array(90).fill(0)), ids([30, 1], new Array(30).fill(0))], /the inputs hold 120 elements in all; the limit is 100/],
    ['NaN', [x([1, 3], [1, Number.NaN, 3]), good[1]], /input "x": data\[1\] = NaN is not a finite number/],
    ['Infinity', [x([1, 3], [1, 2, Number.POSITIVE_INFINITY]), good[1]], /data\[2\] = Infinity is not a finite number/],
    ['a string value', [x([1, 3], [1, '2', 3]), good[1]], /input "x": data\[1\] = "2" is not a number/],
    ['a null value', [x([1, 3], [1, null, 3]), good[1]], /input "x": data\[1\] = null is not a number/],
    ['a float out of float32 range', [x([1, 3], [1, 2, 1e39]), good[1]], /data\[2\] = 1e\+39 is out of range for float32/],
    ['a non-integer for int64', [good[0], ids([1, 2], [1, 2.5])], /input "ids": data\[1\] = 2\.5 is not an integer, as int64 needs/],
    ['an int64 beyond 2^53', [good[0], ids([1, 2], [1, 2 ** 53])], /data\[1\] = 9007199254740992 is out of range for int64/],
  ])('rejects %s', (_, inputs, problem) => {
    const problems = problemsOf(SIG, inputs);
    expect(problems.some((p) => problem.test(p)), problems.join('\n')).toBe(true);
  });

  it.each<[string, number, RegExp]>([
    ['int8', 128, /data\[0\] = 128 is out of range for int8 \[-128, 127\]/],
    ['int8', -129, /out of range for int8/],
    ['uint8', -1, /out of range for uint8 \[0, 255\]/],
    ['uint16', 65536, /out of range for uint16/],
    ['int32', 2 ** 31, /out of range for int32/],
    ['uint32', -1, /out of range for uint32/],
    ['uint64', -1, /out of range for uint64/],
    ['bool', 2, /must be 0, 1, true or false for bool/],
  ])('rejects %s value %d', (type, value, problem) => {
    const problems = problemsOf({ inputs: [t('v', type, [1])], outputs: [] }, [{ name: 'v', dims: [1], data: [value] }]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });

  it.each<[string, RegExp]>([
    ['float16', /float16 inputs are not supported/],
    ['string', /string inputs are not supported/],
    ['non-tensor', /not tensors/],
  ])('rejects %s inputs with a clear problem', (type, problem) => {
    const problems = problemsOf({ inputs: [t('v', type, [1])], outputs: [] }, [{ name: 'v', dims: [1], data: [0] }]);
    expect(problems[0]).toMatch(problem);
  });

  it('lists every problem at once, in the error message too', () => {
    const error = (() => {
      try {
        parseTensorInputs(SIG, [x([1, 4], [1]), { name: 'q', dims: [], data: [] }], LIMITS);
      } catch (e) {
        return e as TensorInputError;
      }
      throw new Error('expected an error');
    })();
    expect(error.problems).toHaveLength(4); // unknown q, missing ids, dim 1, data length
    expect(error.message).toMatch(/^4 problems with the inputs: /);
    expect(error.name).toBe('TensorInputError');
  });

  it('caps a long list of problems', () => {
    const sig: ModelSignature = { inputs: [t('v', 'float32', [1])], outputs: [] };
    const inputs = Array.from({ length: 30 }, (_, i) => ({ name: `u${i}`, dims: [1], data: [0] }));
    const problems = problemsOf(sig, inputs);
    expect(problems).toHaveLength(21);
    expect(problems[20]).toBe('… and 11 more problems');
  });

  it('checks the element limit before looking at any value', () => {
    const problems = problemsOf({ inputs: [t('v', 'float32', ['n'])], outputs: [] }, [{ name: 'v', dims: [101], data: new Array(101).fill('bad') }]);
    expect(problems).toEqual(['the inputs hold 101 elements in all; the limit is 100']);
  });
});

describe('tensorOutputToJson', () => {
  it('turns typed arrays into plain numbers', () => {
    expect(tensorOutputToJson('y', 'float32', [1, 2], new Float32Array([0.5, -2]))).toEqual({ name: 'y', type: 'float32', dims: [1, 2], data: [0.5, -2] });
    expect(tensorOutputToJson('b', 'bool', [2], new Uint8Array([1, 0])).data).toEqual([1, 0]);
  });

  it('turns int64 into numbers, rounding beyond 2^53', () => {
    const out = tensorOutputToJson('i', 'int64', [3], new BigInt64Array([3n, -4n, 2n ** 60n + 1n]));
    expect(out.data).toEqual([3, -4, 2 ** 60]);
  });

  it('decodes float16 bits', () => {
    // 1.0, -2.0, 0.5, 65504 (max), 2^-24 (smallest subnormal), +Infinity, NaN
    const bits = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x7e00]);
    expect(tensorOutputToJson('h', 'float16', [7], bits).data).toEqual([1, -2, 0.5, 65504, 2 ** -24, null, null]);
  });

  it('gives null for NaN and infinities, which JSON cannot carry', () => {
    const out = tensorOutputToJson('y', 'float64', [3], new Float64Array([Number.NaN, Number.NEGATIVE_INFINITY, 1]));
    expect(out.data).toEqual([null, null, 1]);
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('throws on strings, which a served model never returns', () => {
    expect(() => tensorOutputToJson('s', 'string', [1], ['a'])).toThrow(/strings, not numbers/);
  });

  it('copies dims', () => {
    const dims = [2];
    const out = tensorOutputToJson('y', 'int32', dims, new Int32Array([1, 2]));
    expect(out.dims).not.toBe(dims);
  });
});

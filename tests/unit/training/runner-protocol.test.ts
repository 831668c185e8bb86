import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURIZER_SPEC } from '../../../src/domain/model/index.js';
import {
  classifyRunnerExit,
  formatRunnerLine,
  MAX_RUNNER_LINE_LENGTH,
  parseRunnerConfig,
  parseRunnerLine,
  resolveArtifactPath,
  type RunnerMessage,
} from '../../../src/domain/training/index.js';

const CONFIG = {
  protocol: 1,
  runId: 'run-1',
  workDir: '/tmp/run-1',
  data: { train: '/tmp/run-1/train.jsonl', test: '/tmp/run-1/test.jsonl', labels: ['ham', 'spam'] },
  featurizer: DEFAULT_FEATURIZER_SPEC,
  hyperparameters: { epochs: 3 },
  device: { kind: 'cpu', index: null },
};

describe('parseRunnerConfig', () => {
  it('accepts a valid config and returns a plain copy', () => {
    const r = parseRunnerConfig(JSON.parse(JSON.stringify(CONFIG)));
    expect(r).toEqual({ ok: true, config: CONFIG });
    const withExtras = parseRunnerConfig({ ...CONFIG, data: { ...CONFIG.data, positiveLabel: 'spam', validation: '/v.jsonl' }, device: { kind: 'cuda', index: 0 } });
    expect(withExtras.ok && withExtras.config.data).toEqual({ ...CONFIG.data, positiveLabel: 'spam', validation: '/v.jsonl' });
  });

  it.each([
    ['not an object', 42, ['(config)']],
    ['wrong protocol', { ...CONFIG, protocol: 2 }, ['protocol']],
    ['relative workDir', { ...CONFIG, workDir: 'runs/1' }, ['workDir']],
    ['relative data path', { ...CONFIG, data: { ...CONFIG.data, train: 'train.jsonl' } }, ['data.train']],
    ['one label', { ...CONFIG, data: { ...CONFIG.data, labels: ['ham'] } }, ['data.labels']],
    ['duplicate labels', { ...CONFIG, data: { ...CONFIG.data, labels: ['ham', 'ham'] } }, ['data.labels']],
    ['positive label outside the set', { ...CONFIG, data: { ...CONFIG.data, positiveLabel: 'eggs' } }, ['data.positiveLabel']],
    ['bad device', { ...CONFIG, device: { kind: 'tpu', index: -1 } }, ['device.kind', 'device.index']],
    ['bad featurizer', { ...CONFIG, featurizer: { ...DEFAULT_FEATURIZER_SPEC, buckets: 1000 } }, ['featurizer.buckets']],
    ['missing featurizer', { ...CONFIG, featurizer: undefined }, ['featurizer']],
  ])('%s', (_name, json, fields) => {
    const r = parseRunnerConfig(json);
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems.map((p) => p.field)).toEqual(expect.arrayContaining(fields));
  });
});

describe('parseRunnerLine', () => {
  it.each<[string, RunnerMessage]>([
    ['{"type":"log","level":"info","message":"hello"}', { type: 'log', level: 'info', message: 'hello' }],
    ['{"type":"progress","fraction":0.5,"epoch":2,"step":100}', { type: 'progress', fraction: 0.5, epoch: 2, step: 100 }],
    ['{"type":"progress","fraction":1}', { type: 'progress', fraction: 1 }],
    ['{"type":"metric","name":"loss","value":0.25,"step":10,"epoch":1,"scope":"step"}', { type: 'metric', name: 'loss', value: 0.25, step: 10, epoch: 1, scope: 'step' }],
    ['{"type":"metric","name":"test_f1","value":0.9}', { type: 'metric', name: 'test_f1', value: 0.9 }],
    ['{"type":"artifact","path":"model.onnx","format":"onnx","metrics":{"test_f1":0.9}}', { type: 'artifact', path: 'model.onnx', format: 'onnx', metrics: { test_f1: 0.9 } }],
    ['{"type":"error","message":"bad data","permanent":true}', { type: 'error', message: 'bad data', permanent: true }],
    // Surrounding whitespace (a CRLF runner) and unknown fields are fine; the fields are dropped.
    ['  {"type":"log","level":"warn","message":"x","extra":{"deep":[1]}}\r', { type: 'log', level: 'warn', message: 'x' }],
  ])('%s', (line, message) => {
    expect(parseRunnerLine(line)).toEqual({ ok: true, message });
  });

  it.each([
    ['', /empty line/],
    ['   ', /empty line/],
    ['Epoch 1/5 loss=0.3', /not a JSON object/],
    ['[1,2,3]', /not a JSON object/],
    ['null', /not a JSON object/],
    ['42', /not a JSON object/],
    ['"a string"', /not a JSON object/],
    ['{"type":"log","level":"info","message":"cut off', /not valid JSON/],
    ['{}', /type/],
    ['{"type":"nope"}', /type/],
    ['{"type":123}', /type/],
    ['{"type":"log","level":"debug","message":"x"}', /log message: level/],
    ['{"type":"log","level":"info"}', /message/],
    ['{"type":"progress","fraction":1.5}', /fraction/],
    ['{"type":"progress","fraction":-0.1}', /fraction/],
    ['{"type":"progress","fraction":"0.5"}', /fraction/],
    ['{"type":"progress","fraction":0.5,"epoch":-1}', /epoch/],
    ['{"type":"progress","fraction":0.5,"step":1.5}', /step/],
    ['{"type":"metric","name":"loss","value":"NaN"}', /value/],
    ['{"type":"metric","name":"loss","value":1e999}', /value/],
    ['{"type":"metric","name":"","value":1}', /name/],
    ['{"type":"metric","name":"has space","value":1}', /name/],
    ['{"type":"metric","name":"loss"}', /value/],
    ['{"type":"artifact","path":"m.onnx","format":"pt"}', /format/],
    ['{"type":"artifact","path":"","format":"onnx"}', /path/],
    ['{"type":"artifact","path":"m.onnx","format":"onnx","metrics":{"f1":"high"}}', /metrics/],
    ['{"type":"error","message":"x","permanent":"yes"}', /permanent/],
    ['{"type":"error","message":"x"}', /permanent/],
    ['{"__proto__":{"type":"log"},"level":"info","message":"x"}', /type/],
  ])('garbage %j → %s', (line, problem) => {
    const r = parseRunnerLine(line);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.problem).toMatch(problem);
  });

  it('bounds the length and never throws on anything', () => {
    const huge = `{"type":"log","level":"info","message":"${'x'.repeat(MAX_RUNNER_LINE_LENGTH)}"}`;
    expect(parseRunnerLine(huge)).toEqual({ ok: false, problem: expect.stringMatching(/limit is 65536/) });
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(parseRunnerLine(deep).ok).toBe(false);
    const nested = `{"type":"log","level":"info","message":"x","a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expect(() => parseRunnerLine(nested)).not.toThrow();
    for (const weird of ['\u0000', '\uFEFF{"type":"log"}', '{"type":"log","level":"info","message":"\\ud800"}', 'undefined', '{"a":1}{"b":2}']) {
      expect(() => parseRunnerLine(weird)).not.toThrow();
    }
    expect(parseRunnerLine(undefined as unknown as string)).toEqual({ ok: false, problem: 'not a string' });
  });

  it('formatRunnerLine writes lines parseRunnerLine reads back, cutting long messages', () => {
    const messages: RunnerMessage[] = [
      { type: 'metric', name: 'val_f1', value: 0.5, epoch: 1, step: 10, scope: 'epoch' },
      { type: 'artifact', path: 'model.onnx', format: 'onnx', metrics: { test_f1: 1 } },
      { type: 'error', message: 'line one\nline two', permanent: false },
    ];
    for (const m of messages) {
      const line = formatRunnerLine(m);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      expect(parseRunnerLine(line)).toEqual({ ok: true, message: m });
    }
    const long = parseRunnerLine(formatRunnerLine({ type: 'log', level: 'error', message: 'é'.repeat(200_000) }));
    expect(long.ok && long.message.type === 'log' && long.message.message).toMatch(/… \(\d+ more characters\)$/);
  });
});

describe('exit codes and artifact paths', () => {
  it.each([
    [0, 'succeeded'],
    [3, 'permanent-failure'],
    [1, 'retryable-failure'],
    [143, 'retryable-failure'],
    [null, 'retryable-failure'],
  ] as const)('exit %s → %s', (code, outcome) => {
    expect(classifyRunnerExit(code)).toBe(outcome);
  });

  it.each([
    ['model.onnx', '/w/run/model.onnx'],
    ['out/model.onnx', '/w/run/out/model.onnx'],
    ['/w/run/model.onnx', '/w/run/model.onnx'],
    ['./a/../model.onnx', '/w/run/model.onnx'],
  ])('%s is inside the work directory', (p, resolved) => {
    expect(resolveArtifactPath('/w/run', p)).toEqual({ ok: true, path: resolved });
  });

  it.each(['../model.onnx', '/etc/passwd', '/w/run-other/model.onnx', '.', 'a/../../x', 'model\0.onnx'])('%s is refused', (p) => {
    expect(resolveArtifactPath('/w/run', p).ok).toBe(false);
  });
});

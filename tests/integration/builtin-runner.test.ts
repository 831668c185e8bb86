import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEATURIZER_SPEC, featurizeBatch, mulberry32, type FeaturizerSpec } from '../../src/domain/model/index.js';
import { parseRunnerLine, type RunnerMessage } from '../../src/domain/training/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SPEC: FeaturizerSpec = { ...DEFAULT_FEATURIZER_SPEC, buckets: 2 ** 14 };
const LABELS = ['ham', 'spam'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'builtin-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WORDS = {
  spam: ['free', 'money', 'winner', 'prize', 'cash', 'click', 'offer', 'bonus'],
  ham: ['meeting', 'agenda', 'lunch', 'report', 'project', 'tomorrow', 'review', 'notes'],
};

function writeData(file: string, n: number, seed: number, extra: string[] = []): string {
  const rng = mulberry32(seed);
  const lines = Array.from({ length: n }, (_, i) => {
    const label = i % 2 === 0 ? 'spam' : 'ham';
    const words = WORDS[label];
    const text = Array.from({ length: 4 + Math.floor(rng() * 30) }, () => words[Math.floor(rng() * words.length)]).join(' ');
    return JSON.stringify({ text, label });
  });
  writeFileSync(file, [...lines, ...extra].join('\n') + '\n');
  return file;
}

function writeConfig(name: string, changes: Record<string, unknown> = {}): { config: string; workDir: string } {
  const workDir = path.join(dir, name);
  const config = path.join(dir, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      protocol: 1,
      runId: name,
      workDir,
      data: { train: path.join(dir, 'train.jsonl'), test: path.join(dir, 'test.jsonl'), labels: LABELS, positiveLabel: 'spam' },
      featurizer: SPEC,
      hyperparameters: { epochs: 4, dim: 8, metricsEverySteps: 100 },
      device: { kind: 'cpu', index: null },
      ...changes,
    }),
  );
  return { config, workDir };
}

writeData(path.join(dir, 'train.jsonl'), 400, 1);
writeData(path.join(dir, 'test.jsonl'), 100, 2);

interface Run {
  readonly code: number | null;
  readonly messages: RunnerMessage[];
  readonly garbage: string[];
  readonly stderr: string;
}

/** The runner from source, as the worker would spawn it: the config path is the last argument. */
function spawnRunner(config: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/runners/builtin-runner.ts', config], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const parse = (): Omit<Run, 'code'> => {
    const messages: RunnerMessage[] = [];
    const garbage: string[] = [];
    for (const line of stdout.split('\n').filter((l) => l !== '')) {
      const r = parseRunnerLine(line);
      if (r.ok) messages.push(r.message);
      else garbage.push(line);
    }
    return { messages, garbage, stderr };
  };
  const done = once(child, 'exit').then(([code]) => ({ code: code as number | null, ...parse() }));
  return { child, done, stdout: () => stdout };
}

const run = (config: string): Promise<Run> => spawnRunner(config).done;

describe('built-in runner', { timeout: 60_000 }, () => {
  it('trains, evaluates, writes model.onnx and says so in protocol lines', async () => {
    const { config, workDir } = writeConfig('ok');
    const r = await run(config);
    expect(r.stderr).toBe('');
    expect(r.garbage).toEqual([]);
    expect(r.code).toBe(0);
    const metrics = r.messages.filter((m): m is Extract<RunnerMessage, { type: 'metric' }> => m.type === 'metric');
    const epochLoss = metrics.filter((m) => m.name === 'loss' && m.scope === 'epoch');
    expect(epochLoss.map((m) => m.epoch)).toEqual([1, 2, 3, 4]);
    expect(epochLoss.at(-1)!.value).toBeLessThan(epochLoss[0]!.value);
    expect(metrics.filter((m) => m.name === 'loss' && m.scope === 'step').map((m) => m.step)).toEqual(Array.from({ length: 16 }, (_, i) => (i + 1) * 100));
    expect(metrics.find((m) => m.name === 'test_f1')).toMatchObject({ value: 1 });
    const progress = r.messages.filter((m) => m.type === 'progress').map((m) => (m as { fraction: number }).fraction);
    expect(progress.at(-1)).toBe(1);
    const artifact = r.messages.at(-1);
    expect(artifact).toEqual({ type: 'artifact', path: 'model.onnx', format: 'onnx', metrics: { test_accuracy: 1, test_macro_f1: 1, test_f1: 1 } });

    const bytes = readFileSync(path.join(workDir, 'model.onnx'));
    const session = await ort.InferenceSession.create(bytes);
    try {
      expect(session.inputNames).toEqual(['ids', 'weights']);
      expect(session.outputNames).toEqual(['probabilities']);
      const texts = ['free money prize now', 'meeting agenda for tomorrow'];
      const batch = featurizeBatch(texts, SPEC);
      const out = await session.run({
        ids: new ort.Tensor('int64', batch.ids, [batch.batch, batch.length]),
        weights: new ort.Tensor('float32', batch.weights, [batch.batch, batch.length]),
      });
      const p = out.probabilities!.data as Float32Array;
      expect(p[1]).toBeGreaterThan(0.5); // spam
      expect(p[2]).toBeGreaterThan(0.5); // ham
    } finally {
      await session.release();
    }
    const evaluation = JSON.parse(readFileSync(path.join(workDir, 'evaluation.json'), 'utf8'));
    expect(evaluation.test).toMatchObject({ total: 100, accuracy: 1, confusion: [[50, 0], [0, 50]] });
    expect(evaluation.stats).toMatchObject({ completed: true, steps: 1600 });
  });

  it.each([
    ['an invalid config', { protocol: 2, hyperparameters: { epochs: 0 } }, /protocol: must be 1/],
    ['invalid hyperparameters', { hyperparameters: { epochs: 0, learning_rate: 1 } }, /hyperparameters\.learning_rate: unknown.*hyperparameters\.epochs: must be an integer/],
    ['a missing data file', { data: { train: path.join(dir, 'nope.jsonl'), test: path.join(dir, 'test.jsonl'), labels: LABELS } }, /cannot read the train file .*nope\.jsonl/],
    ['labels outside the set', { data: { train: path.join(dir, 'train.jsonl'), test: path.join(dir, 'test.jsonl'), labels: ['ham', 'phishing'] } }, /line 1: label "spam" is not one of "ham", "phishing"/],
  ])('exits 3 with a permanent error line on %s', async (name, changes, message) => {
    const { config, workDir } = writeConfig(`bad-${name.replace(/\W+/g, '-')}`, changes);
    const r = await run(config);
    expect(r.code).toBe(3);
    const error = r.messages.find((m) => m.type === 'error');
    expect(error).toMatchObject({ type: 'error', permanent: true, message: expect.stringMatching(message) });
    expect(r.messages.some((m) => m.type === 'artifact')).toBe(false);
    expect(existsSync(path.join(workDir, 'model.onnx'))).toBe(false);
  });

  it('exits 3 on malformed data lines and on a config file that is not JSON or not there', async () => {
    writeData(path.join(dir, 'broken.jsonl'), 50, 3, ['not json', '{"text": 1, "label": "ham"}']);
    const { config } = writeConfig('broken', { data: { train: path.join(dir, 'broken.jsonl'), test: path.join(dir, 'test.jsonl'), labels: LABELS } });
    const broken = await run(config);
    expect(broken.code).toBe(3);
    expect(broken.messages.find((m) => m.type === 'error')).toMatchObject({ permanent: true, message: expect.stringMatching(/2 unusable line\(s\): line 51: .*; line 52:/) });

    const notJson = path.join(dir, 'not-json.json');
    writeFileSync(notJson, '{ protocol: 1');
    for (const file of [notJson, path.join(dir, 'absent.json')]) {
      const r = await run(file);
      expect(r.code).toBe(3);
      expect(r.messages).toEqual([{ type: 'error', permanent: true, message: expect.stringMatching(/config file/) }]);
    }
  });

  it('stops promptly on SIGTERM, exiting non-zero without an artifact', async () => {
    writeData(path.join(dir, 'big.jsonl'), 4000, 4);
    const { config, workDir } = writeConfig('sigterm', {
      data: { train: path.join(dir, 'big.jsonl'), test: path.join(dir, 'test.jsonl'), labels: LABELS },
      hyperparameters: { epochs: 100, dim: 64, metricsEverySteps: 1000 },
    });
    const runner = spawnRunner(config);
    const deadline = Date.now() + 30_000;
    while (!runner.stdout().includes('"type":"metric"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(runner.stdout()).toContain('"type":"metric"');
    const sent = performance.now();
    runner.child.kill('SIGTERM');
    const r = await runner.done;
    const ms = performance.now() - sent;
    console.log(`built-in runner: exit ${r.code} ${Math.round(ms)} ms after SIGTERM`);
    expect(ms).toBeLessThan(1500);
    expect(r.code).toBe(143);
    expect(r.messages.some((m) => m.type === 'artifact')).toBe(false);
    expect(r.messages.filter((m) => m.type === 'log').map((m) => (m as { message: string }).message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/SIGTERM received/), expect.stringMatching(/stopped on request after \d+ of 400000 steps/)]),
    );
    expect(existsSync(path.join(workDir, 'model.onnx'))).toBe(false);
  });
});

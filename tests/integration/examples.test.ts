import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BattleDocument,
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  StartTrainingRunDocument,
  TrainingRunUpdatedDocument,
} from '../../src/sdk/index.js';
import { collectUntil, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';

/** examples/ run as a user runs them (`npx tsx examples/…`), against a real server. */
const root = fileURLToPath(new URL('../..', import.meta.url));
let backend: TestBackend;
let t: TestApp;

function corpus(n: number): string {
  const spam = ['win free money now', 'claim your cash prize today', 'cheap pills online now', 'you won the lottery'];
  const ham = ['meeting moved to three', 'lunch at noon tomorrow', 'see the agenda attached', 'can you review my patch'];
  const rows = ['text,label'];
  for (let i = 0; i < n; i++) rows.push(`"${(i % 2 ? ham : spam)[i % 4]!} ${i}",${i % 2 ? 'ham' : 'spam'}`);
  return `${rows.join('\n')}\n`;
}

function example(script: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', `examples/${script}`, ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend);
  await t.client.request(CreateModelDocument, { input: { name: 'watched', labels: ['ham', 'spam'] } });
  await t.client.request(CreateDatasetDocument, { input: { name: 'watched-data', labels: ['ham', 'spam'] } });
  const { createDatasetVersion } = await t.client.request(CreateDatasetVersionDocument, { input: { dataset: 'watched-data', file: new File([corpus(200)], 'w.csv') } });
  const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, {
    input: { model: 'watched', datasetVersionId: createDatasetVersion.version.id, hyperparameters: { epochs: 3, dim: 8, seed: 1 }, featurizerSpec: { buckets: 4096 } },
  });
  const events = await collectUntil(t.client.subscribe(TrainingRunUpdatedDocument, { id: startTrainingRun.trainingRun.id }), (e) => ['SUCCEEDED', 'FAILED'].includes(e.trainingRunUpdated.status), 60_000);
  expect(events.at(-1)!.trainingRunUpdated.status).toBe('SUCCEEDED');
}, 90_000);

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

describe('examples/watch-battle.ts', () => {
  it('starts a battle, prints every round once and a summary that matches the API', { timeout: 90_000 }, async () => {
    const run = await example('watch-battle.ts', ['watched', '--rounds', '120', '--strategy', 'leetspeak', '--strategy', 'homoglyphs', '--seed', '5', '--no-retrain'], { ARENA_URL: t.url, ARENA_TOKEN: t.token });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    const id = /^battle (\S+): 120 rounds against watched v1/.exec(lines[0]!)?.[1];
    expect(id).toBeDefined();
    const printed = lines.filter((l) => l.startsWith('round ')).map((l) => Number(l.split(/\s+/)[1]));
    expect([...printed].sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i));

    const { battle } = await t.client.request(BattleDocument, { id: id!, first: 100 });
    expect(battle!.status).toBe('SUCCEEDED');
    expect(run.stdout).toContain(`evasion rate ${(100 * battle!.evasionRate).toFixed(2)}% (${battle!.evasions}/120)`);
    for (const s of battle!.byStrategy) expect(run.stdout).toMatch(new RegExp(`^  ${s.key}\\s+${(100 * s.rate).toFixed(2)}%\\s+\\(${s.evasions}/${s.attempts}\\)$`, 'm'));
    // Each printed round is the stored one: strategy and verdict.
    for (const r of battle!.rounds.nodes) {
      const line = lines.find((l) => new RegExp(`^round\\s+${r.index}\\s`).test(l))!;
      expect(line).toContain(r.strategy);
      expect(line).toContain(r.detected ? 'detected' : 'EVADED');
      expect(line).toContain(`score ${r.score.toFixed(3)}`);
    }
    expect(run.stdout).toMatch(/^retrain: none/m);
  });

  it('exits non-zero with the error code when the API refuses', { timeout: 60_000 }, async () => {
    const unknown = await example('watch-battle.ts', ['no-such-model'], { ARENA_URL: t.url, ARENA_TOKEN: t.token });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error NOT_FOUND: /m);
    const unsigned = await example('watch-battle.ts', ['watched'], { ARENA_URL: t.url, ARENA_TOKEN: 'not-a-token' });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/^error UNAUTHENTICATED: /m);
  });
});

import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelTrainingRunDocument,
  ClassifyDocument,
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  DeleteDatasetDocument,
  EvaluateModelVersionDocument,
  ModelDocument,
  PromoteModelVersionDocument,
  StartTrainingRunDocument,
  TrainingMetricsDocument,
  TrainingRunDocument,
  TrainingRunLogsDocument,
  TrainingRunUpdatedDocument,
  UpdateModelDocument,
  WorkersDocument,
  type TrainingRunFieldsFragment,
} from '../../src/sdk/index.js';
import { collectUntil, graphQLFailure, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestBackend, scaled, type TestBackend } from '../helpers/backend.js';
import { spawnArena } from '../helpers/cli.js';

const FAKE = fileURLToPath(new URL('../fixtures/fake-runner.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const fake = (mode: string, device = 'cpu') => ({ command: [process.execPath, '--import', TSX, FAKE, mode], device });
const RUNNERS = Object.fromEntries(
  ['ok', 'garbage', 'crash', 'permanent', 'hang', 'slow', 'missing-artifact', 'invalid-artifact', 'outside'].map((m) => [`fake-${m}`, fake(m)]),
);
RUNNERS['fake-gpu'] = fake('ok', 'cuda');

let backend: TestBackend;
let t: TestApp;

/** Small separable data: spam talks money and prizes, ham talks meetings and lunch. */
function corpus(n: number, seed = 1): string {
  const spam = ['win free money now', 'claim your prize today', 'cheap pills online', 'you won a lottery', 'click here for cash', 'free bitcoin offer'];
  const ham = ['meeting moved to three', 'lunch at noon tomorrow', 'see the agenda attached', 'can you review my patch', 'the build is green again', 'notes from the standup'];
  const rows = ['text,label'];
  for (let i = 0; i < n; i++) {
    const isSpam = i % 2 === 0;
    const base = (isSpam ? spam : ham)[(i * 7 + seed) % 6]!;
    rows.push(`"${base} ${isSpam ? 'offer' : 'team'} ${i}",${isSpam ? 'spam' : 'ham'}`);
  }
  return `${rows.join('\n')}\n`;
}

async function dataset(client: TestApp['client'], name: string, csv: string, labels = ['ham', 'spam']): Promise<string> {
  await client.request(CreateDatasetDocument, { input: { name, labels } });
  const { createDatasetVersion } = await client.request(CreateDatasetVersionDocument, {
    input: { dataset: name, file: new File([csv], `${name}.csv`, { type: 'text/csv' }) },
  });
  return createDatasetVersion.version.id;
}

const finished = (e: { trainingRunUpdated: TrainingRunFieldsFragment }) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(e.trainingRunUpdated.status);

async function waitForEnd(client: TestApp['client'], id: string, timeoutMs = 60_000): Promise<TrainingRunFieldsFragment> {
  const events = await collectUntil(client.subscribe(TrainingRunUpdatedDocument, { id }), finished, timeoutMs);
  const last = events.at(-1)!.trainingRunUpdated;
  expect(['SUCCEEDED', 'FAILED', 'CANCELLED']).toContain(last.status);
  return last;
}

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend, {
    ARENA_TRAINING_RUNNERS: JSON.stringify(RUNNERS),
    ARENA_GPUS: 'none',
    ARENA_JOB_MAX_ATTEMPTS: '2',
  });
});

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

describe('training runs with the built-in trainer', () => {
  let versionId: string;

  beforeAll(async () => {
    await t.client.request(CreateModelDocument, { input: { name: 'trained', labels: ['ham', 'spam'] } });
    versionId = await dataset(t.client, 'training-data', corpus(400));
  });

  it('trains, streams metrics live, registers a challenger and, with no champion yet, makes it champion', async () => {
    const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, {
      input: { model: 'trained', datasetVersionId: versionId, hyperparameters: { epochs: 5, dim: 8, seed: 3, metricsEverySteps: 50 }, featurizerSpec: { buckets: 4096 } },
    });
    const run = startTrainingRun.trainingRun;
    expect(run).toMatchObject({ status: 'QUEUED', runner: 'builtin', model: 'trained', hyperparameters: { epochs: 5, dim: 8, seed: 3 } });
    const live = collectUntil(t.client.subscribe(TrainingMetricsDocument, { runId: run.id }), () => false, 60_000);
    const end = await waitForEnd(t.client, run.id);
    expect(end.error).toBeNull();
    expect(end).toMatchObject({ status: 'SUCCEEDED', resultVersion: 1, promoted: true, device: 'cpu', progress: 1, attempts: 1 });
    expect(end.steps.map((s) => [s.name, s.status])).toEqual([
      ['validate', 'SUCCEEDED'],
      ['prepare', 'SUCCEEDED'],
      ['allocate', 'SUCCEEDED'],
      ['train', 'SUCCEEDED'],
      ['evaluate', 'SUCCEEDED'],
      ['register', 'SUCCEEDED'],
      ['compare', 'SUCCEEDED'],
      ['promote', 'SUCCEEDED'],
    ]);
    const evaluation = end.evaluation as { challenger: { macroF1: number; perClass: { label: string; precision: number; recall: number }[] }; champion: null };
    expect(evaluation.champion).toBeNull();
    expect(evaluation.challenger.macroF1).toBeGreaterThan(0.9);
    expect(evaluation.challenger.perClass.map((c) => c.label)).toEqual(['ham', 'spam']);

    // The subscription got the points as they came, and ended with the run.
    const points = await live;
    const names = new Set(points.map((p) => p.trainingMetrics.name));
    expect(names).toContain('loss');
    expect(names).toContain('val_f1');
    const { trainingRun } = await t.client.request(TrainingRunDocument, { id: run.id });
    // What came live is what was stored, point for point (the subscription may have missed the
    // first points if the runner was quicker than the WebSocket: those are in the query).
    const stored = new Map(trainingRun!.metrics.map((m) => [m.seq, m]));
    expect(points.length).toBeGreaterThan(0);
    for (const p of points) expect(stored.get(p.trainingMetrics.seq)).toEqual(p.trainingMetrics);
    const seqs = points.map((p) => p.trainingMetrics.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const losses = trainingRun!.metrics.filter((m) => m.name === 'loss' && m.epoch !== null).map((m) => m.value);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    const logs = (await t.client.request(TrainingRunLogsDocument, { id: run.id, first: 100 })).trainingRun!.logs;
    expect(logs.nodes.map((l) => l.message).join('\n')).toMatch(/promote: version 1 is champion/);

    // The new champion serves classify, with the lineage of the run that made it.
    const { classify } = await t.client.request(ClassifyDocument, { model: 'trained', texts: ['claim your free prize money offer now', 'lunch at noon with the team'] });
    expect(classify).toMatchObject({ version: 1, alias: 'champion' });
    expect(classify.results.map((r) => r.label)).toEqual(['spam', 'ham']);
    const { model } = await t.client.request(ModelDocument, { name: 'trained' });
    expect(model!.versions[0]).toMatchObject({ version: 1, source: 'TRAINING' });
  });

  it('keeps the champion when the challenger does not win by the model’s margin, and promotes on request only when better', async () => {
    await t.client.request(UpdateModelDocument, { input: { name: 'trained', promotionMargin: 0.5 } });
    const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, {
      input: { model: 'trained', datasetVersionId: versionId, hyperparameters: { epochs: 1, dim: 4, seed: 9 }, featurizerSpec: { buckets: 4096 } },
    });
    const end = await waitForEnd(t.client, startTrainingRun.trainingRun.id);
    expect(end).toMatchObject({ status: 'SUCCEEDED', resultVersion: 2, promoted: false });
    expect(end.steps.find((s) => s.name === 'promote')).toMatchObject({ status: 'SKIPPED', detail: 'kept the champion' });
    const { model } = await t.client.request(ModelDocument, { name: 'trained' });
    expect(Object.fromEntries(model!.aliases.map((a) => [a.name, a.version]))).toEqual({ champion: 1, challenger: 2 });

    // Both were evaluated on the same split by the run: not better by 0.5, so refused…
    const refused = await graphQLFailure(t.client.request(PromoteModelVersionDocument, { input: { model: 'trained', version: 2 } }));
    expect(refused.code).toBe('CONFLICT');
    expect(refused.message).toMatch(/not better than the champion \(version 1\)/);
    // …unless an admin forces it; a user may not.
    const user = await t.signIn('user');
    expect((await graphQLFailure(user.client.request(PromoteModelVersionDocument, { input: { model: 'trained', version: 2, force: true } }))).code).toBe('NOT_FOUND');
    const forced = await t.client.request(PromoteModelVersionDocument, { input: { model: 'trained', version: 2, force: true } });
    expect(forced.promoteModelVersion).toMatchObject({ version: 2, previousChampion: 1, forced: true });
    // Every process loads the new champion, then swaps: soon, not necessarily by the next request.
    await expect.poll(async () => (await t.client.request(ClassifyDocument, { model: 'trained', texts: ['hello'] })).classify.version, { timeout: 10_000 }).toBe(2);
    await t.client.request(PromoteModelVersionDocument, { input: { model: 'trained', version: 1, force: true } });
    await t.client.request(UpdateModelDocument, { input: { name: 'trained', promotionMargin: 0 } });
  });

  it('evaluates any version on any dataset version and keeps the metrics', async () => {
    const other = await dataset(t.client, 'eval-data', corpus(100, 4));
    const { evaluateModelVersion } = await t.client.request(EvaluateModelVersionDocument, { input: { model: 'trained', version: 1, datasetVersionId: other } });
    const metrics = evaluateModelVersion.evaluation.metrics as { macroF1: number; accuracy: number; confusion: number[][] };
    expect(evaluateModelVersion.evaluation).toMatchObject({ model: 'trained', version: 1, datasetVersionId: other });
    expect(metrics.macroF1).toBeGreaterThan(0.8);
    expect(metrics.confusion.flat().reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('refuses what cannot be trained, naming the problem, and creates nothing', async () => {
    const before = (await t.client.request(ModelDocument, { name: 'trained' })).model!.versions.length;
    const start = (input: Record<string, unknown>) =>
      graphQLFailure(t.client.request(StartTrainingRunDocument, { input: { model: 'trained', datasetVersionId: versionId, ...input } as never }));
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ model: 'no-such-model' }, 'NOT_FOUND', /No model named no-such-model/],
      [{ datasetVersionId: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND', /No dataset version/],
      [{ hyperparameters: { learningRate: -1 } }, 'BAD_USER_INPUT', /learningRate/],
      [{ hyperparameters: { epochs: 0 } }, 'BAD_USER_INPUT', /epochs/],
      [{ hyperparameters: { learning_rate: 0.1 } }, 'BAD_USER_INPUT', /learning_rate/],
      [{ featurizerSpec: { buckets: 2 ** 30 } }, 'BAD_USER_INPUT', /buckets/],
      [{ runner: 'nope' }, 'BAD_USER_INPUT', /No runner named nope/],
    ];
    for (const [input, code, message] of cases) {
      const error = await start(input);
      expect({ input, code: error.code }).toEqual({ input, code });
      expect(error.message).toMatch(message);
    }
    expect((await t.client.request(ModelDocument, { name: 'trained' })).model!.versions).toHaveLength(before);
  });

  it('fails a run on one-class data at once, with the reason, and registers nothing', async () => {
    await t.client.request(CreateModelDocument, { input: { name: 'one-class', labels: ['ham', 'spam'] } });
    const onlyHam = await dataset(t.client, 'only-ham', `text,label\n${Array.from({ length: 40 }, (_, i) => `"hello team ${i}",ham`).join('\n')}\n`);
    const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, { input: { model: 'one-class', datasetVersionId: onlyHam } });
    const end = await waitForEnd(t.client, startTrainingRun.trainingRun.id);
    expect(end).toMatchObject({ status: 'FAILED', attempts: 1, resultVersion: null });
    expect(end.error).toMatch(/only one class \(ham\)/);
    expect(end.steps).toEqual([expect.objectContaining({ name: 'validate', status: 'FAILED' })]);
    expect((await t.client.request(ModelDocument, { name: 'one-class' })).model!.versions).toEqual([]);
  });
});

describe('runners that misbehave', () => {
  let versionId: string;

  beforeAll(async () => {
    await t.client.request(CreateModelDocument, { input: { name: 'faked', labels: ['ham', 'spam'] } });
    versionId = await dataset(t.client, 'fake-data', corpus(60));
  });

  const run = async (runner: string) => {
    const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, {
      input: { model: 'faked', datasetVersionId: versionId, runner, featurizerSpec: { buckets: 1024 } },
    });
    return waitForEnd(t.client, startTrainingRun.trainingRun.id);
  };
  const versions = async () => (await t.client.request(ModelDocument, { name: 'faked' })).model!.versions.length;

  it('takes a protocol runner’s metrics and artifact, counting the lines that are not protocol', async () => {
    const end = await run('fake-ok');
    expect(end).toMatchObject({ status: 'SUCCEEDED', garbageLines: 2, resultVersion: 1 });
    const { trainingRun } = await t.client.request(TrainingRunDocument, { id: end.id, metric: 'loss' });
    expect(trainingRun!.metrics.map((m) => [m.value, m.epoch])).toEqual([
      [1, 1],
      [0.5, 2],
      [1 / 3, 3],
    ]);
  });

  it.each([
    ['fake-garbage', /exited 0 without naming an artifact \(8 lines were not protocol messages\)/, 1],
    ['fake-permanent', /exited with code 3: the data cannot be trained on/, 1],
    ['fake-crash', /exited with code 1: boom/, 2],
    ['fake-missing-artifact', /artifact that does not exist: nowhere\.onnx/, 1],
    ['fake-invalid-artifact', /artifact was rejected \(NOT_ONNX\)/, 1],
    ['fake-outside', /artifact outside its work directory/, 1],
  ])('%s: fails with the reason, registering nothing', async (runner, reason, attempts) => {
    const before = await versions();
    const end = await run(runner);
    expect(end).toMatchObject({ status: 'FAILED', attempts, resultVersion: null });
    expect(end.error).toMatch(reason);
    expect(await versions()).toBe(before);
  });

  it('a runner that needs a GPU on a worker without one fails with a reason after its retries', async () => {
    const end = await run('fake-gpu');
    expect(end).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(end.error).toMatch(/needs a GPU and this worker has none/);
  });

  it('cancelTrainingRun stops the runner within a second and frees the worker', async () => {
    const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, {
      input: { model: 'faked', datasetVersionId: versionId, runner: 'fake-hang', featurizerSpec: { buckets: 1024 } },
    });
    const id = startTrainingRun.trainingRun.id;
    const [pidPoint] = await collectUntil(t.client.subscribe(TrainingMetricsDocument, { runId: id }), (p) => p.trainingMetrics.name === 'pid', 30_000);
    const pid = pidPoint!.trainingMetrics.value;
    expect(alive(pid)).toBe(true);
    const asked = Date.now();
    const { cancelTrainingRun } = await t.client.request(CancelTrainingRunDocument, { input: { id } });
    expect(cancelTrainingRun.trainingRun.status).toBe('CANCELLED');
    await expect.poll(() => alive(pid), { timeout: 3_000, interval: 50 }).toBe(false);
    expect(Date.now() - asked).toBeLessThan(2_500);
    await expect
      .poll(async () => (await t.client.request(WorkersDocument)).workers.flatMap((w) => w.currentJobs).some((j) => j.jobId === id), { timeout: 5_000 })
      .toBe(false);
    // Already over: a second cancel says so.
    expect((await graphQLFailure(t.client.request(CancelTrainingRunDocument, { input: { id } }))).code).toBe('CONFLICT');
  });

  it('a dataset cannot be deleted while a run will read it', async () => {
    const doomed = await dataset(t.client, 'in-use-data', corpus(40));
    const { startTrainingRun } = await t.client.request(StartTrainingRunDocument, {
      input: { model: 'faked', datasetVersionId: doomed, runner: 'fake-hang', featurizerSpec: { buckets: 1024 } },
    });
    const id = startTrainingRun.trainingRun.id;
    const refused = await graphQLFailure(t.client.request(DeleteDatasetDocument, { input: { dataset: 'in-use-data' } }));
    expect(refused.code).toBe('CONFLICT');
    expect(refused.message).toContain(`training run ${id}`);
    await t.client.request(CancelTrainingRunDocument, { input: { id } });
    await t.client.request(DeleteDatasetDocument, { input: { dataset: 'in-use-data' } });
  });

  it('shows each worker with its queues, devices and what it runs', async () => {
    const { workers } = await t.client.request(WorkersDocument);
    const me = workers.find((w) => w.id === t.app.runtime.workerId)!;
    expect(me).toMatchObject({ online: true, pid: process.pid, concurrency: 4 });
    expect(me.queues).toContain('training');
    expect(me.devices).toEqual([expect.objectContaining({ kind: 'cpu', cores: expect.any(Number) })]);
  });

  it('a run is its starter’s: another user can neither see it nor cancel it', async () => {
    const owner = await t.signIn('user');
    await owner.client.request(CreateModelDocument, { input: { name: 'owned-model', labels: ['ham', 'spam'] } });
    const data = await dataset(owner.client, 'owned-data', corpus(40));
    const { startTrainingRun } = await owner.client.request(StartTrainingRunDocument, {
      input: { model: 'owned-model', datasetVersionId: data, runner: 'fake-ok', featurizerSpec: { buckets: 1024 } },
    });
    const id = startTrainingRun.trainingRun.id;
    const other = await t.signIn('user');
    expect((await other.client.request(TrainingRunDocument, { id })).trainingRun).toBeNull();
    expect((await graphQLFailure(other.client.request(CancelTrainingRunDocument, { input: { id } }))).code).toBe('NOT_FOUND');
    const spy = await collectUntil(other.client.subscribe(TrainingMetricsDocument, { runId: id }), () => false, 2_000).then(
      () => null,
      (e: unknown) => e,
    );
    expect((spy as { code?: string }).code).toBe('NOT_FOUND');
    // Nor train on someone else's model.
    expect((await graphQLFailure(other.client.request(StartTrainingRunDocument, { input: { model: 'owned-model', datasetVersionId: data } }))).code).toBe('NOT_FOUND');
    await waitForEnd(owner.client, id);
  });
});

describe('a run that outlives its time limit', () => {
  it('is stopped and failed with the reason', async () => {
    const own = await createTestBackend();
    const short = await startTestApp(own, { ARENA_TRAINING_RUNNERS: JSON.stringify(RUNNERS), ARENA_TRAINING_RUN_TIMEOUT_MS: '1500' });
    try {
      await short.client.request(CreateModelDocument, { input: { name: 'slowpoke', labels: ['ham', 'spam'] } });
      const data = await dataset(short.client, 'slow-data', corpus(40));
      const { startTrainingRun } = await short.client.request(StartTrainingRunDocument, {
        input: { model: 'slowpoke', datasetVersionId: data, runner: 'fake-hang', featurizerSpec: { buckets: 1024 } },
      });
      const end = await waitForEnd(short.client, startTrainingRun.trainingRun.id, 30_000);
      expect(end.error).toMatch(/ran past 1500 ms/);
      expect(end).toMatchObject({ status: 'FAILED', attempts: 1 });
      expect(end.error).toMatch(/ran past 1500 ms/);
    } finally {
      await short.close();
      await own.cleanup();
    }
  });
});

describe('a worker shut down mid-run', () => {
  it('hands the run back, and the next worker finishes it', { timeout: 120_000 }, async () => {
    const own = await createTestBackend();
    const env = { ARENA_TRAINING_RUNNERS: JSON.stringify(RUNNERS), ARENA_SHUTDOWN_GRACE_MS: '300' };
    let first: TestApp | undefined = await startTestApp(own, env);
    let second: TestApp | undefined;
    try {
      await first.client.request(CreateModelDocument, { input: { name: 'handed-back', labels: ['ham', 'spam'] } });
      const data = await dataset(first.client, 'handed-back-data', corpus(40));
      const { startTrainingRun } = await first.client.request(StartTrainingRunDocument, {
        input: { model: 'handed-back', datasetVersionId: data, runner: 'fake-slow', featurizerSpec: { buckets: 1024 } },
      });
      const id = startTrainingRun.trainingRun.id;
      await collectUntil(first.client.subscribe(TrainingMetricsDocument, { runId: id }), (p) => p.trainingMetrics.name === 'loss', 30_000);
      await first.close();
      first = undefined;
      second = await startTestApp(own, env);
      const end = await waitForEnd(second.client, id, 60_000);
      expect(end).toMatchObject({ status: 'SUCCEEDED', resultVersion: 1 });
      // The first attempt was handed back, not failed: its log says so and the retry succeeded.
      const logs = (await second.client.request(TrainingRunLogsDocument, { id, first: 100 })).trainingRun!.logs.nodes.map((l) => l.message);
      expect(logs.filter((m) => m.startsWith('attempt '))).toHaveLength(2);
    } finally {
      await first?.close();
      await second?.close();
      await own.cleanup();
    }
  });
});

describe.runIf(scaled)('a worker killed mid-run', () => {
  it('leaves a run that another worker picks up and finishes', { timeout: 120_000 }, async () => {
    // Stale after 5 s: short for a test, long enough that a loaded CI machine's late heartbeat
    // (every 1.25 s) is not mistaken for a dead worker.
    const env = { ARENA_TRAINING_RUNNERS: JSON.stringify(RUNNERS), ARENA_JOB_STALE_AFTER_MS: '5000', ARENA_RECONCILE_INTERVAL_MS: '500' };
    // A database and queue prefix of its own: no other test app's worker may take the run.
    const own = await createTestBackend();
    const api = await startTestApp(own, env, { worker: undefined });
    const doomed = spawnArena(['worker', '--queues', 'training', '--concurrency', '1'], { ...own.env, ...env, LOG_LEVEL: 'info' });
    let rescuer: TestApp | undefined;
    try {
      await api.client.request(CreateModelDocument, { input: { name: 'survivor', labels: ['ham', 'spam'] } });
      const data = await dataset(api.client, 'survivor-data', corpus(40));
      const { startTrainingRun } = await api.client.request(StartTrainingRunDocument, {
        input: { model: 'survivor', datasetVersionId: data, runner: 'fake-slow', featurizerSpec: { buckets: 1024 } },
      });
      const id = startTrainingRun.trainingRun.id;
      await collectUntil(api.client.subscribe(TrainingMetricsDocument, { runId: id }), (p) => p.trainingMetrics.name === 'loss', 60_000);
      const held = (await api.client.request(TrainingRunDocument, { id })).trainingRun!;
      expect(held).toMatchObject({ status: 'RUNNING', attempts: 1 });
      expect(held.workerId).toMatch(new RegExp(`:${doomed.pid}:`));
      doomed.kill('SIGKILL');
      await once(doomed, 'exit');
      rescuer = await startTestApp(own, env, { api: false, worker: { queues: ['training'], concurrency: 1 } });
      const end = await waitForEnd(api.client, id, 60_000);
      expect(end).toMatchObject({ status: 'SUCCEEDED', attempts: 2, workerId: rescuer.app.runtime.workerId });
      expect(end.workerId).not.toBe(held.workerId);
    } finally {
      if (doomed.exitCode === null && doomed.signalCode === null) doomed.kill('SIGKILL');
      await rescuer?.close();
      await api.close();
      await own.cleanup();
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


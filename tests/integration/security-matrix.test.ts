import { isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient } from 'graphql-ws';
import { DEFAULT_FEATURIZER_SPEC, exportedSignature, exportOnnx, mulberry32, randomWeights } from '../../src/domain/model/index.js';
import { Battle, DatasetVersion, ModelVersion, TrainingRun, User } from '../../src/entities/index.js';
import { validateBattleConfig } from '../../src/domain/index.js';
import { getSchema } from '../../src/graphql/schema.js';
import { SetModelAliasDocument as SET_ALIAS } from '../../src/sdk/index.js';
import { startTestApp, TEST_PASSWORD, type SignedIn, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';
import { tensorModel } from '../helpers/onnx-fixtures.js';

/**
 * Every operation of the schema × every kind of caller (anonymous, viewer, the owner of the
 * resource, another user, an admin), over the transport users touch. Each cell runs against
 * fresh resources owned by a fresh user, so one cell's change cannot decide another's outcome.
 * The test fails on any unexpected allow and on any unexpected deny.
 */

type Actor = 'anonymous' | 'viewer' | 'owner' | 'other' | 'admin';
const ACTORS: readonly Actor[] = ['anonymous', 'viewer', 'owner', 'other', 'admin'];

interface Fixture {
  readonly owner: SignedIn;
  /** PRIVATE text model with versions 1 and 2, champion → 1, and one classify by the owner in the inference log. */
  readonly privateModel: string;
  /** SHARED text model, champion → 1. */
  readonly sharedModel: string;
  /** PRIVATE tensor model (predict), champion → 1. */
  readonly tensorModel: string;
  readonly pingJobId: string;
  readonly inferenceJobId: string;
  readonly apiKeyId: string;
  readonly signInToken: string;
  /** PRIVATE dataset with version 1. */
  readonly privateDataset: string;
  /** SHARED dataset with version 1. */
  readonly sharedDataset: string;
  /** Version 1 of another private dataset of the owner's (one train and one test example), for training. */
  readonly datasetVersionId: string;
  /** The owner's training run on the private model, QUEUED (never dispatched). */
  readonly trainingRunId: string;
  /** The owner's battle against the private model's champion, QUEUED (never dispatched). */
  readonly battleId: string;
}

interface Outcome {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[];
}

interface Case {
  /** The schema field this row covers. */
  readonly op: string;
  /** Which variant (several rows may cover one field). */
  readonly name: string;
  readonly allowed: readonly Actor[];
  run(fx: Fixture, call: Caller): Promise<Outcome>;
  /** Whether a result without errors shows access (default: the field is non-null). */
  readonly granted?: (data: Record<string, unknown>, fx: Fixture) => boolean;
}

interface Caller {
  readonly auth: Record<string, string>;
  readonly token: string | undefined;
  gql(query: string, variables?: Record<string, unknown>): Promise<Outcome>;
  upload(query: string, variables: Record<string, unknown>, file: Uint8Array): Promise<Outcome>;
  subscribe(query: string, variables: Record<string, unknown>, trigger?: () => Promise<unknown>): Promise<Outcome>;
}

let backend: TestBackend;
let t: TestApp;
let viewer: SignedIn;
let other: SignedIn;
let n = 0;

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(backend, { ARENA_RATE_LIMIT_USER_PER_MINUTE: '100000', ARENA_RATE_LIMIT_IP_PER_MINUTE: '100000' });
  viewer = await t.signIn('viewer');
  other = await t.signIn('user');
  adminId = (await t.app.runtime.services.principals.fromCredential(t.token)).id;
});

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

let adminId: string;

async function session(userId: string): Promise<string> {
  const { services, db } = t.app.runtime;
  return (await services.auth.openSession(db.fork(), await db.fork().findOneOrFail(User, { id: userId }))).accessToken;
}

function caller(token: string | undefined): Caller {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const post = async (init: RequestInit): Promise<Outcome> => {
    const response = await fetch(`${t.url}/graphql`, init);
    return (await response.json()) as Outcome;
  };
  return {
    auth,
    token,
    gql: (query, variables = {}) => post({ method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ query, variables }) }),
    upload: (query, variables, file) => {
      const form = new FormData();
      form.append('operations', JSON.stringify({ query, variables: { ...variables, file: null } }));
      form.append('map', JSON.stringify({ 0: ['variables.file'] }));
      form.append('0', new Blob([file]), 'model.onnx');
      return post({ method: 'POST', headers: { 'apollo-require-preflight': 'true', ...auth }, body: form });
    },
    subscribe: (query, variables, trigger) =>
      new Promise<Outcome>((resolve) => {
        const client = createClient({ url: `${t.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: auth, retryAttempts: 0, lazy: true });
        const finish = (outcome: Outcome) => {
          clearTimeout(timer);
          void client.dispose();
          resolve(outcome);
        };
        const timer = setTimeout(() => finish({ errors: [{ message: 'no event within 10 s', extensions: { code: 'TIMEOUT' } }] }), 10_000);
        client.subscribe(
          { query, variables },
          {
            next: (result) => finish(result as Outcome),
            error: (error) =>
              finish({
                errors: Array.isArray(error)
                  ? (error as Outcome['errors'])
                  : [{ message: String((error as { reason?: string }).reason ?? error), extensions: { code: `CLOSED_${(error as { code?: number }).code}` } }],
              }),
            complete: () => finish({ errors: [{ message: 'completed without an event', extensions: { code: 'COMPLETED' } }] }),
          },
        );
        if (trigger) setTimeout(() => void trigger().catch(() => undefined), 300);
      }),
  };
}

const textModelBytes = (seed: number) => exportOnnx(randomWeights(['ham', 'spam'], 8, 1 << 10, mulberry32(seed)));
const textVersion = (seed: number) => ({
  bytes: textModelBytes(seed),
  featurizerSpec: { ...DEFAULT_FEATURIZER_SPEC, buckets: 1 << 10 },
  signature: { ...exportedSignature(2) },
  source: 'UPLOAD' as const,
});

async function fixture(): Promise<Fixture> {
  const id = ++n;
  const owner = await t.signIn('user');
  const { services, db } = t.app.runtime;
  const principal = await services.principals.fromCredential(owner.token);
  const privateModel = `private-${id}`;
  const sharedModel = `shared-${id}`;
  const tensor = `tensor-${id}`;
  await services.registry.createModel(db.fork(), principal, { name: privateModel, labels: ['ham', 'spam'] });
  await services.registry.createModel(db.fork(), principal, { name: sharedModel, labels: ['ham', 'spam'], visibility: 'SHARED' });
  await services.registry.createModel(db.fork(), principal, { name: tensor, labels: [], task: 'time-series-forecast' });
  await services.registry.registerVersion(db.fork(), privateModel, textVersion(id));
  await services.registry.registerVersion(db.fork(), privateModel, textVersion(id + 1000));
  await services.registry.registerVersion(db.fork(), sharedModel, textVersion(id));
  await services.registry.registerVersion(db.fork(), tensor, { bytes: tensorModel(), featurizerSpec: {}, signature: {}, source: 'UPLOAD' });
  for (const model of [privateModel, sharedModel, tensor]) await services.registry.setAlias(db.fork(), principal, model, 'champion', 1);
  await services.inference.classify({ model: privateModel }, ['hello'], { principal, requestId: null });
  const ping = await services.ping.request(db.fork(), principal, { message: 'mine' });
  const job = await services.inferenceJobs.submit(db.fork(), principal, { model: privateModel, texts: ['one', 'two'] });
  const key = await services.users.createApiKey(db.fork(), principal, { name: 'ci' });
  const user = await db.fork().findOneOrFail(User, { id: owner.user.id });
  const link = await services.auth.createSignInLink(db.fork(), user.id);
  // Newest first by name, so a list of 100 holds this cell's datasets however many cells ran before.
  const privateDataset = `d${String(999_999 - id).padStart(6, '0')}-private`;
  const sharedDataset = `d${String(999_999 - id).padStart(6, '0')}-shared`;
  for (const [name, visibility] of [[privateDataset, 'PRIVATE'], [sharedDataset, 'SHARED']] as const) {
    await services.datasets.createDataset(db.fork(), principal, { name, labels: ['ham', 'spam'], visibility });
    await services.datasets.importRows(db.fork(), principal, {
      name,
      labels: ['ham', 'spam'],
      description: '',
      rows: [
        { text: 'hello', label: 'ham', split: 'train' },
        { text: 'win cash', label: 'spam', split: 'test' },
      ],
    });
  }
  // Training gets a private dataset of its own: a queued run on one keeps it from being deleted.
  const trainingData = `d${String(999_999 - id).padStart(6, '0')}-training`;
  await services.datasets.importRows(db.fork(), principal, {
    name: trainingData,
    labels: ['ham', 'spam'],
    description: '',
    rows: [
      { text: 'hello', label: 'ham', split: 'train' },
      { text: 'win cash', label: 'spam', split: 'test' },
    ],
  });
  const datasetVersion = await db.fork().findOneOrFail(DatasetVersion, { dataset: { name: trainingData }, version: 1 });
  // A row as startTrainingRun writes it, left QUEUED: no worker runs it during the cell.
  const runs = db.fork();
  const run = runs.create(TrainingRun, {
    modelName: privateModel,
    datasetVersionId: datasetVersion.id,
    runner: 'builtin',
    hyperparameters: {},
    featurizerSpec: {},
    evaluation: null,
    principal: principal.id,
  });
  await runs.flush();
  const defender = await db.fork().findOneOrFail(ModelVersion, { model: { name: privateModel }, version: 1 });
  const checked = validateBattleConfig({ rounds: 3, strategies: 'adaptive', seeds: [{ text: 'win cash now', split: 'test' }], seed: 1, queryBudget: 0 });
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  const battles = db.fork();
  const battle = battles.create(Battle, {
    modelName: privateModel,
    alias: 'champion',
    defenderVersionId: defender.id,
    defenderVersion: 1,
    harmfulLabel: 'spam',
    config: checked.config as unknown as Record<string, unknown>,
    threshold: 0.3,
    autoRetrain: false,
    state: null,
    latency: null,
    principal: principal.id,
  });
  await battles.flush();
  return {
    owner,
    privateModel,
    sharedModel,
    tensorModel: tensor,
    pingJobId: ping.id,
    inferenceJobId: job.id,
    apiKeyId: key.apiKey.id,
    signInToken: link.token,
    privateDataset,
    sharedDataset,
    datasetVersionId: datasetVersion.id,
    trainingRunId: run.id,
    battleId: battle.id,
  };
}

const SIGNED_IN: readonly Actor[] = ['viewer', 'owner', 'other', 'admin'];
const WRITERS: readonly Actor[] = ['owner', 'other', 'admin'];
const OWNER_OR_ADMIN: readonly Actor[] = ['owner', 'admin'];
const EVERYONE = ACTORS;

const names = (data: Record<string, unknown>, field: string) =>
  ((data[field] as { nodes: { name?: string }[] }).nodes ?? []).map((m) => m.name);

const CASES: readonly Case[] = [
  // Queries
  { op: 'serverInfo', name: 'public', allowed: EVERYONE, run: (_fx, c) => c.gql('{ serverInfo { version } }') },
  { op: 'me', name: 'self', allowed: SIGNED_IN, run: (_fx, c) => c.gql('{ me { id } }') },
  { op: 'users', name: 'list', allowed: ['admin'], run: (_fx, c) => c.gql('{ users { totalCount } }') },
  { op: 'user', name: 'the owner', allowed: OWNER_OR_ADMIN, run: (fx, c) => c.gql('query($id: ID!) { user(id: $id) { id } }', { id: fx.owner.user.id }) },
  { op: 'apiKeys', name: 'own', allowed: SIGNED_IN, run: (_fx, c) => c.gql('{ apiKeys { id } }') },
  {
    op: 'apiKeys',
    name: 'the owner’s',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('query($u: ID) { apiKeys(userId: $u) { id } }', { u: fx.owner.user.id }),
    granted: (d, fx) => (d['apiKeys'] as { id: string }[]).some((k) => k.id === fx.apiKeyId),
  },
  { op: 'auditLog', name: 'read', allowed: ['admin'], run: (_fx, c) => c.gql('{ auditLog(first: 1) { totalCount } }') },
  {
    op: 'models',
    name: 'lists a private model',
    allowed: OWNER_OR_ADMIN,
    run: (_fx, c) => c.gql('{ models(first: 100) { nodes { name } } }'),
    granted: (d, fx) => names(d, 'models').includes(fx.privateModel),
  },
  {
    op: 'models',
    name: 'lists a shared model',
    allowed: SIGNED_IN,
    run: (_fx, c) => c.gql('{ models(first: 100) { nodes { name } } }'),
    granted: (d, fx) => names(d, 'models').includes(fx.sharedModel),
  },
  {
    op: 'datasets',
    name: 'lists a private dataset',
    allowed: OWNER_OR_ADMIN,
    run: (_fx, c) => c.gql('{ datasets(first: 100) { nodes { name } } }'),
    granted: (d, fx) => names(d, 'datasets').includes(fx.privateDataset),
  },
  {
    op: 'datasets',
    name: 'lists a shared dataset',
    allowed: SIGNED_IN,
    run: (_fx, c) => c.gql('{ datasets(first: 100) { nodes { name } } }'),
    granted: (d, fx) => names(d, 'datasets').includes(fx.sharedDataset),
  },
  {
    op: 'dataset',
    name: 'private, with its examples',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('query($n: String!) { dataset(name: $n) { version(number: 1) { examples { totalCount } } } }', { n: fx.privateDataset }),
  },
  {
    op: 'dataset',
    name: 'shared, with its examples',
    allowed: SIGNED_IN,
    run: (fx, c) => c.gql('query($n: String!) { dataset(name: $n) { version(number: 1) { examples { totalCount } } } }', { n: fx.sharedDataset }),
  },
  { op: 'model', name: 'private', allowed: OWNER_OR_ADMIN, run: (fx, c) => c.gql('query($n: String!) { model(name: $n) { id } }', { n: fx.privateModel }) },
  { op: 'model', name: 'shared', allowed: SIGNED_IN, run: (fx, c) => c.gql('query($n: String!) { model(name: $n) { id } }', { n: fx.sharedModel }) },
  {
    op: 'classify',
    name: 'private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('query($m: String!) { classify(model: $m, texts: ["hi"]) { version } }', { m: fx.privateModel }),
  },
  {
    op: 'classify',
    name: 'shared model',
    allowed: SIGNED_IN,
    run: (fx, c) => c.gql('query($m: String!) { classify(model: $m, texts: ["hi"]) { version } }', { m: fx.sharedModel }),
  },
  {
    op: 'predict',
    name: 'private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('query($m: String!) { predict(model: $m, inputs: [{ name: "x", dims: [1, 3], data: [1, 2, 3] }]) { version } }', { m: fx.tensorModel }),
  },
  {
    op: 'inferenceLogs',
    name: 'the owner’s calls',
    allowed: OWNER_OR_ADMIN,
    run: async (fx, c) => {
      await t.app.runtime.services.inference.flushAudit();
      return c.gql('query($m: String) { inferenceLogs(filter: { model: $m }) { totalCount } }', { m: fx.privateModel });
    },
    granted: (d) => (d['inferenceLogs'] as { totalCount: number }).totalCount > 0,
  },
  {
    op: 'inferenceJobs',
    name: 'lists the owner’s',
    allowed: OWNER_OR_ADMIN,
    run: (_fx, c) => c.gql('{ inferenceJobs(first: 100) { nodes { id } } }'),
    granted: (d, fx) => (d['inferenceJobs'] as { nodes: { id: string }[] }).nodes.some((j) => j.id === fx.inferenceJobId),
  },
  { op: 'inferenceJob', name: 'the owner’s', allowed: OWNER_OR_ADMIN, run: (fx, c) => c.gql('query($id: ID!) { inferenceJob(id: $id) { id } }', { id: fx.inferenceJobId }) },
  {
    op: 'inferenceStats',
    name: 'counts the owner’s job',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('query($m: String) { inferenceStats(model: $m) { total } }', { m: fx.privateModel }),
    granted: (d) => (d['inferenceStats'] as { total: number }).total > 0,
  },
  { op: 'pingJob', name: 'the owner’s', allowed: OWNER_OR_ADMIN, run: (fx, c) => c.gql('query($id: ID!) { pingJob(id: $id) { id } }', { id: fx.pingJobId }) },
  {
    op: 'pingJobs',
    name: 'lists the owner’s',
    allowed: OWNER_OR_ADMIN,
    run: (_fx, c) => c.gql('{ pingJobs(first: 100) { nodes { id } } }'),
    granted: (d, fx) => (d['pingJobs'] as { nodes: { id: string }[] }).nodes.some((j) => j.id === fx.pingJobId),
  },
  {
    op: 'trainingRuns',
    name: 'lists the owner’s',
    allowed: OWNER_OR_ADMIN,
    run: (_fx, c) => c.gql('{ trainingRuns(first: 100) { nodes { id } } }'),
    granted: (d, fx) => (d['trainingRuns'] as { nodes: { id: string }[] }).nodes.some((r) => r.id === fx.trainingRunId),
  },
  { op: 'trainingRun', name: 'the owner’s', allowed: OWNER_OR_ADMIN, run: (fx, c) => c.gql('query($id: ID!) { trainingRun(id: $id) { id metrics { seq } } }', { id: fx.trainingRunId }) },
  { op: 'attackStrategies', name: 'anyone signed in', allowed: SIGNED_IN, run: (_fx, c) => c.gql('{ attackStrategies { id } }') },
  {
    op: 'battles',
    name: 'lists the owner’s',
    allowed: OWNER_OR_ADMIN,
    run: (_fx, c) => c.gql('{ battles(first: 100) { nodes { id } } }'),
    granted: (d, fx) => (d['battles'] as { nodes: { id: string }[] }).nodes.some((b) => b.id === fx.battleId),
  },
  { op: 'battle', name: 'the owner’s', allowed: OWNER_OR_ADMIN, run: (fx, c) => c.gql('query($id: ID!) { battle(id: $id) { id rounds { totalCount } } }', { id: fx.battleId }) },
  {
    op: 'modelVersionBattleStats',
    name: 'private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('query($m: String!) { modelVersionBattleStats(model: $m, version: 1) { battles } }', { m: fx.privateModel }),
  },
  { op: 'workers', name: 'anyone signed in', allowed: SIGNED_IN, run: (_fx, c) => c.gql('{ workers { id } }') },
  { op: 'trainingRunners', name: 'anyone signed in', allowed: SIGNED_IN, run: (_fx, c) => c.gql('{ trainingRunners }') },
  // Mutations
  {
    op: 'startTrainingRun',
    name: 'on the owner’s private model and data',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) =>
      c.gql('mutation($m: String!, $d: ID!) { startTrainingRun(input: { model: $m, datasetVersionId: $d, featurizerSpec: { buckets: 1024 } }) { trainingRun { id } } }', {
        m: fx.privateModel,
        d: fx.datasetVersionId,
      }),
  },
  { op: 'cancelTrainingRun', name: 'the owner’s run', allowed: OWNER_OR_ADMIN, run: (fx, c) => c.gql('mutation($id: ID!) { cancelTrainingRun(input: { id: $id }) { trainingRun { status } } }', { id: fx.trainingRunId }) },
  {
    op: 'evaluateModelVersion',
    name: 'the owner’s private model on private data',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) =>
      c.gql('mutation($m: String!, $d: ID!) { evaluateModelVersion(input: { model: $m, version: 1, datasetVersionId: $d }) { evaluation { id } } }', {
        m: fx.privateModel,
        d: fx.datasetVersionId,
      }),
  },
  {
    op: 'promoteModelVersion',
    name: 'the owner’s private model (its champion again)',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('mutation($m: String!) { promoteModelVersion(input: { model: $m, version: 1 }) { version } }', { m: fx.privateModel }),
  },
  {
    op: 'createBattle',
    name: 'against the owner’s private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) =>
      c.gql('mutation($m: String!) { createBattle(input: { model: $m, rounds: 3, seedTexts: ["win cash"], autoRetrain: false }) { battle { id } } }', { m: fx.privateModel }),
  },
  {
    op: 'createBattle',
    name: 'against a shared model',
    allowed: WRITERS,
    run: (fx, c) =>
      c.gql('mutation($m: String!) { createBattle(input: { model: $m, rounds: 3, seedTexts: ["win cash"], autoRetrain: false }) { battle { id } } }', { m: fx.sharedModel }),
  },
  { op: 'cancelBattle', name: 'the owner’s battle', allowed: OWNER_OR_ADMIN, run: (fx, c) => c.gql('mutation($id: ID!) { cancelBattle(input: { id: $id }) { battle { status } } }', { id: fx.battleId }) },
  { op: 'rematch', name: 'the owner’s battle', allowed: OWNER_OR_ADMIN, run: (fx, c) => c.gql('mutation($id: ID!) { rematch(input: { id: $id }) { battle { id } } }', { id: fx.battleId }) },
  {
    op: 'login',
    name: 'anyone may try',
    allowed: EVERYONE,
    run: (fx, c) => c.gql('mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }', { e: fx.owner.user.email, p: TEST_PASSWORD }),
  },
  {
    op: 'refreshToken',
    name: 'whoever holds it',
    allowed: EVERYONE,
    run: (fx, c) => c.gql('mutation($r: String!) { refreshToken(input: { refreshToken: $r }) { accessToken } }', { r: fx.owner.refreshToken }),
  },
  {
    op: 'redeemSignInLink',
    name: 'whoever holds it',
    allowed: EVERYONE,
    run: (fx, c) => c.gql('mutation($t: String!) { redeemSignInLink(input: { token: $t }) { accessToken } }', { t: fx.signInToken }),
  },
  { op: 'logout', name: 'own session', allowed: SIGNED_IN, run: (_fx, c) => c.gql('mutation { logout { sessionsEnded } }') },
  {
    op: 'createUser',
    name: 'admins only',
    allowed: ['admin'],
    run: (_fx, c) =>
      c.gql('mutation($e: String!, $p: String!) { createUser(input: { email: $e, password: $p, role: user }) { user { id } } }', { e: `new-${++n}@test.example`, p: TEST_PASSWORD }),
  },
  {
    op: 'updateUser',
    name: 'the owner’s email',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('mutation($id: ID!, $e: String!) { updateUser(input: { id: $id, email: $e }) { user { id } } }', { id: fx.owner.user.id, e: `renamed-${++n}@test.example` }),
  },
  {
    op: 'updateUser',
    name: 'promote the owner to admin',
    allowed: ['admin'],
    run: (fx, c) => c.gql('mutation($id: ID!) { updateUser(input: { id: $id, role: admin }) { user { id } } }', { id: fx.owner.user.id }),
  },
  {
    op: 'updateUser',
    name: 'disable the owner',
    allowed: ['admin'],
    run: (fx, c) => c.gql('mutation($id: ID!) { updateUser(input: { id: $id, disabled: true }) { user { id } } }', { id: fx.owner.user.id }),
  },
  { op: 'createApiKey', name: 'own role', allowed: SIGNED_IN, run: (_fx, c) => c.gql('mutation { createApiKey(input: { name: "k" }) { key } }') },
  { op: 'createApiKey', name: 'admin role', allowed: ['admin'], run: (_fx, c) => c.gql('mutation { createApiKey(input: { name: "k", role: admin }) { key } }') },
  {
    op: 'revokeApiKey',
    name: 'the owner’s key',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }', { id: fx.apiKeyId }),
  },
  {
    op: 'createModel',
    name: 'writers',
    allowed: WRITERS,
    run: (_fx, c) => c.gql('mutation($n: String!) { createModel(input: { name: $n, labels: ["a", "b"] }) { model { id } } }', { n: `created-${++n}` }),
  },
  {
    op: 'updateModel',
    name: 'share the private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('mutation($n: String!) { updateModel(input: { name: $n, visibility: SHARED }) { model { id } } }', { n: fx.privateModel }),
  },
  {
    op: 'updateModel',
    name: 'change the shared model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('mutation($n: String!) { updateModel(input: { name: $n, description: "mine now" }) { model { id } } }', { n: fx.sharedModel }),
  },
  {
    op: 'setModelAlias',
    name: 'private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('mutation($n: String!) { setModelAlias(input: { model: $n, alias: "champion", version: 2 }) { model { id } } }', { n: fx.privateModel }),
  },
  {
    op: 'setModelAlias',
    name: 'shared model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('mutation($n: String!) { setModelAlias(input: { model: $n, alias: "champion", version: 1 }) { model { id } } }', { n: fx.sharedModel }),
  },
  {
    op: 'removeModelAlias',
    name: 'private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('mutation($n: String!) { removeModelAlias(input: { model: $n, alias: "champion" }) { model { id } } }', { n: fx.privateModel }),
  },
  {
    op: 'deleteModelVersion',
    name: 'private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('mutation($n: String!) { deleteModelVersion(input: { model: $n, version: 2 }) { model { id } } }', { n: fx.privateModel }),
  },
  {
    op: 'registerModelVersion',
    name: 'upload to the private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) =>
      c.upload(
        'mutation($m: String!, $f: JSONObject, $file: Upload!) { registerModelVersion(input: { model: $m, file: $file, featurizerSpec: $f }) { version { version } } }',
        { m: fx.privateModel, f: { ...DEFAULT_FEATURIZER_SPEC, buckets: 1 << 10 } },
        textModelBytes(7),
      ),
  },
  {
    op: 'submitInferenceJob',
    name: 'private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.gql('mutation($m: String!) { submitInferenceJob(input: { model: $m, texts: ["a"] }) { inferenceJob { id } } }', { m: fx.privateModel }),
  },
  {
    op: 'submitInferenceJob',
    name: 'shared model',
    allowed: WRITERS,
    run: (fx, c) => c.gql('mutation($m: String!) { submitInferenceJob(input: { model: $m, texts: ["a"] }) { inferenceJob { id } } }', { m: fx.sharedModel }),
  },
  {
    op: 'createDataset',
    name: 'writers',
    allowed: WRITERS,
    run: (_fx, c) => c.gql('mutation($n: String!) { createDataset(input: { name: $n, labels: ["a", "b"] }) { dataset { id } } }', { n: `data-${++n}` }),
  },
  ...(['privateDataset', 'sharedDataset'] as const).flatMap((which): Case[] => [
    {
      op: 'createDatasetVersion',
      name: `upload to the ${which}`,
      allowed: OWNER_OR_ADMIN,
      run: (fx, c) =>
        c.upload(
          'mutation($d: String!, $file: Upload!) { createDatasetVersion(input: { dataset: $d, file: $file, format: CSV }) { version { version } } }',
          { d: fx[which] },
          new TextEncoder().encode('text,label\nnew text,spam\n'),
        ),
    },
    {
      op: 'deriveDatasetVersion',
      name: `derive from the ${which}`,
      allowed: OWNER_OR_ADMIN,
      run: (fx, c) =>
        c.gql('mutation($d: String!) { deriveDatasetVersion(input: { dataset: $d, parentVersion: 1, examples: [{ text: "evaded", label: "spam" }] }) { version { version } } }', {
          d: fx[which],
        }),
    },
    {
      op: 'deleteDataset',
      name: `the ${which}`,
      allowed: OWNER_OR_ADMIN,
      run: (fx, c) => c.gql('mutation($d: String!) { deleteDataset(input: { dataset: $d }) { deletedDataset { id } } }', { d: fx[which] }),
    },
  ]),
  { op: 'requestPing', name: 'writers', allowed: WRITERS, run: (_fx, c) => c.gql('mutation { requestPing(input: { message: "hi" }) { pingJob { id } } }') },
  // Subscriptions: the first event, or the refusal
  {
    op: 'pingJobUpdated',
    name: 'the owner’s job',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.subscribe('subscription($id: ID!) { pingJobUpdated(id: $id) { id } }', { id: fx.pingJobId }),
  },
  {
    op: 'inferenceJobUpdated',
    name: 'the owner’s job',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.subscribe('subscription($id: ID!) { inferenceJobUpdated(id: $id) { id } }', { id: fx.inferenceJobId }),
  },
  {
    op: 'battleUpdated',
    name: 'the owner’s battle',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.subscribe('subscription($id: ID!) { battleUpdated(battleId: $id) { id } }', { id: fx.battleId }),
  },
  {
    op: 'battleRoundCompleted',
    name: 'the owner’s battle',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) =>
      c.subscribe('subscription($id: ID!) { battleRoundCompleted(battleId: $id) { battleId } }', { id: fx.battleId }, () =>
        t.app.runtime.events.publish(`battle.${fx.battleId}.rounds`, { battleId: fx.battleId, rounds: [] }),
      ),
  },
  {
    op: 'trainingRunUpdated',
    name: 'the owner’s run',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) => c.subscribe('subscription($id: ID!) { trainingRunUpdated(id: $id) { id } }', { id: fx.trainingRunId }),
  },
  {
    op: 'trainingMetrics',
    name: 'the owner’s run',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) =>
      c.subscribe('subscription($id: ID!) { trainingMetrics(runId: $id) { seq } }', { id: fx.trainingRunId }, () =>
        t.app.runtime.events.publish(`training.${fx.trainingRunId}.metrics`, { runId: fx.trainingRunId, seq: 1, name: 'loss', value: 1, step: null, epoch: null, at: new Date().toISOString() }),
      ),
  },
  {
    op: 'modelAliasChanged',
    name: 'private model',
    allowed: OWNER_OR_ADMIN,
    run: (fx, c) =>
      c.subscribe('subscription($m: String!) { modelAliasChanged(model: $m) { version } }', { m: fx.privateModel }, () =>
        fx.owner.client.request(SET_ALIAS, { input: { model: fx.privateModel, alias: 'champion', version: 2 } }),
      ),
  },
  {
    op: 'modelAliasChanged',
    name: 'shared model',
    allowed: SIGNED_IN,
    run: (fx, c) =>
      c.subscribe('subscription($m: String!) { modelAliasChanged(model: $m) { version } }', { m: fx.sharedModel }, () =>
        fx.owner.client.request(SET_ALIAS, { input: { model: fx.sharedModel, alias: 'challenger', version: 1 } }),
      ),
  },
];

const DENIALS = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CLOSED_4403']);

function verdict(c: Case, outcome: Outcome, fx: Fixture): 'allow' | 'deny' | string {
  if (outcome.errors?.length) {
    const code = outcome.errors[0]!.extensions?.code ?? 'none';
    return DENIALS.has(code) ? 'deny' : `unexpected error ${code}: ${outcome.errors[0]!.message}`;
  }
  const data = outcome.data ?? {};
  const value = data[c.op];
  if (value === null || value === undefined) return 'deny';
  return (c.granted ?? (() => true))(data, fx) ? 'allow' : 'deny';
}

describe('authorization matrix', { timeout: 600_000 }, () => {
  it('covers every operation in the schema', async () => {
    const schema = await getSchema();
    const fields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
      .filter(isObjectType)
      .flatMap((type) => Object.keys(type.getFields()));
    expect(new Set(CASES.map((c) => c.op))).toEqual(new Set(fields));
  });

  it('allows exactly what the roles and ownership allow, over HTTP and WebSocket', async () => {
    const surprises: string[] = [];
    let cells = 0;
    for (const c of CASES) {
      for (const actor of ACTORS) {
        const fx = await fixture();
        // A fresh session per cell: a cell that signs out must not sign out the next one.
        const userId = { anonymous: undefined, viewer: viewer.user.id, owner: undefined, other: other.user.id, admin: adminId }[actor];
        const token = actor === 'owner' ? fx.owner.token : userId ? await session(userId) : undefined;
        const outcome = await c.run(fx, caller(token));
        const got = verdict(c, outcome, fx);
        const want = c.allowed.includes(actor) ? 'allow' : 'deny';
        cells += 1;
        if (got !== want) surprises.push(`${c.op} (${c.name}) as ${actor}: expected ${want}, got ${got}`);
      }
    }
    expect(surprises).toEqual([]);
    expect(cells).toBe(CASES.length * ACTORS.length);
  });
});

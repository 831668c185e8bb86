import { parse as parseCsv } from 'csv-parse/sync';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FEATURIZER_SPEC, exportedSignature, exportOnnx, mulberry32, randomWeights } from '../../src/domain/model/index.js';
import {
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  CreateModelDocument,
  DatasetDocument,
  DatasetExamplesDocument,
  type DatasetExamplesQuery,
  DatasetsDocument,
  DeleteDatasetDocument,
  DeriveDatasetVersionDocument,
  type ExampleSplit,
} from '../../src/sdk/index.js';
import { graphQLFailure, startTestApp, type SignedIn, type TestApp } from '../helpers/app.js';
import { createTestBackend, type TestBackend } from '../helpers/backend.js';

let backend: TestBackend;
let t: TestApp;

const UPLOAD_LIMIT = 256 * 1024;
const MAX_TEXT = 1000;

beforeAll(async () => {
  backend = await createTestBackend();
  t = await startTestApp(
    backend,
    {
      ARENA_DATASET_UPLOAD_LIMIT_BYTES: String(UPLOAD_LIMIT),
      ARENA_DATASET_MAX_TEXT_LENGTH: String(MAX_TEXT),
      ARENA_DATASET_MAX_ROWS: '5000',
      ARENA_RATE_LIMIT_USER_PER_MINUTE: '100000',
    },
    { worker: undefined },
  );
});

afterAll(async () => {
  await t?.close();
  await backend?.cleanup();
});

const file = (content: string | Uint8Array, name: string) => new File([content], name);

async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return t.app.runtime.db.fork().getConnection().execute<T[]>(query, params);
}

const rowCounts = async () => {
  const [row] = await sql<{ versions: string; examples: string }>(
    'select (select count(*) from dataset_version) as versions, (select count(*) from example) as examples',
  );
  return { versions: Number(row!.versions), examples: Number(row!.examples) };
};

async function upload(dataset: string, content: string | Uint8Array, name: string, extra: { splitRatio?: number; note?: string } = {}, client = t.client) {
  return (await client.request(CreateDatasetVersionDocument, { input: { dataset, file: file(content, name), ...extra } })).createDatasetVersion;
}

/** Every example of a version, paged `first` at a time. */
async function allExamples(name: string, version: number, filter: { label?: string; split?: ExampleSplit } = {}, first = 7) {
  const out: { id: string; text: string; label: string; source: string | null; split: string; version: number }[] = [];
  let after: string | null = null;
  let totalCount = -1;
  for (;;) {
    const { dataset }: DatasetExamplesQuery = await t.client.request(DatasetExamplesDocument, { name, version, first, after, ...filter });
    const page: NonNullable<NonNullable<DatasetExamplesQuery['dataset']>['version']>['examples'] = dataset!.version!.examples;
    totalCount = page.totalCount;
    // The API's enum is TRAIN/TEST; files (and these comparisons) use train/test.
    out.push(...page.nodes.map((e) => ({ ...e, split: e.split.toLowerCase() })));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return { examples: out, totalCount };
}

const CSV = [
  'text,label,source,split',
  '"Meeting moved to 3pm, see agenda",ham,mail/1,',
  'FREE MONEY click now,spam,mail/2,',
  'free   money CLICK now,spam,mail/3,', // a duplicate after normalization
  'FREE MONEY click now,spam,mail/4,', // an exact duplicate
  '"Lunch at 1? ""the usual"" place",ham,mail/5,train',
  '"Your account is suspended,\nverify your password",spam,mail/6,test',
  'See you tomorrow,ham,,',
  ...Array.from({ length: 30 }, (_, i) => `status report number ${i},ham,gen/${i},`),
  ...Array.from({ length: 20 }, (_, i) => `win a prize ${i} now,spam,gen/s${i},`),
].join('\n');

describe('datasets', () => {
  let csvVersion: Awaited<ReturnType<typeof upload>>['version'];

  beforeAll(async () => {
    const { createDataset } = await t.client.request(CreateDatasetDocument, { input: { name: 'mail', labels: ['ham', 'spam'], description: 'test mail' } });
    expect(createDataset.dataset).toMatchObject({ name: 'mail', labels: ['ham', 'spam'], versions: [], visibility: 'PRIVATE' });
    csvVersion = (await upload('mail', CSV, 'mail.csv', { note: 'first' })).version;
  });

  it('uploads a CSV and reports counts, class distribution, duplicates and splits', () => {
    expect(csvVersion).toMatchObject({
      version: 1,
      parentVersion: null,
      rowCount: 57,
      splitRatio: 0.2,
      changes: { source: 'UPLOAD', added: 57, format: 'CSV', fileName: 'mail.csv', note: 'first' },
    });
    expect(csvVersion.lineage).toEqual([csvVersion.id]);
    const v = csvVersion.validation;
    expect(v).toMatchObject({ rows: 57, labels: ['ham', 'spam'], exactDuplicates: 1, normalizedDuplicates: 2, splitsFromFile: 2, emptyTexts: 0, oversizedTexts: 0, unknownLabels: 0 });
    expect(v.classDistribution.map((c) => [c.label, c.count])).toEqual([
      ['ham', 33],
      ['spam', 24],
    ]);
    for (const c of v.classDistribution) expect(c.train + c.test).toBe(c.count);
    expect(v.splits.train + v.splits.test).toBe(57);
    expect(v.splits.test).toBeGreaterThan(0);
    expect(csvVersion.csvUrl).toMatch(/^\/datasets\/[0-9a-f-]{36}\/versions\/1\/export\?format=csv$/);
  });

  it('keeps duplicates after normalization on one side of the split, and file splits win', async () => {
    const { examples } = await allExamples('mail', 1);
    expect(examples).toHaveLength(57);
    const split = (source: string) => examples.find((e) => e.source === source)!.split;
    expect(split('mail/3')).toBe(split('mail/2'));
    expect(split('mail/4')).toBe(split('mail/2'));
    expect(split('mail/5')).toBe('train');
    expect(split('mail/6')).toBe('test');
    expect(examples.find((e) => e.source === 'mail/6')!.text).toBe('Your account is suspended,\nverify your password');
    expect(examples.find((e) => e.source === 'mail/5')!.text).toBe('Lunch at 1? "the usual" place');
    expect(examples.find((e) => e.text === 'See you tomorrow')!.source).toBeNull();
  });

  it('pages examples by label and split, matching the report', async () => {
    const v = csvVersion.validation;
    for (const c of v.classDistribution) {
      for (const split of ['TRAIN', 'TEST'] as const) {
        const { examples, totalCount } = await allExamples('mail', 1, { label: c.label, split }, 4);
        expect(totalCount).toBe(split === 'TRAIN' ? c.train : c.test);
        expect(examples).toHaveLength(totalCount);
        expect(new Set(examples.map((e) => e.id)).size).toBe(examples.length);
        for (const e of examples) expect([e.label, e.split]).toEqual([c.label, split.toLowerCase()]);
      }
    }
    const bad = await graphQLFailure(t.client.request(DatasetExamplesDocument, { name: 'mail', version: 1, after: 'bm9wZQ' }));
    expect(bad.code).toBe('BAD_USER_INPUT');
  });

  it('uploads JSON Lines as the next version', async () => {
    const lines = [
      JSON.stringify({ text: 'hello there', label: 'ham' }),
      '',
      JSON.stringify({ text: 'cheap pills', label: 'spam', source: 'web', split: 'test' }),
      JSON.stringify({ text: 'Ϝrее ｍｏｎｅｙ', label: 'spam' }),
      JSON.stringify({ text: 'free money', label: 'spam' }),
    ].join('\r\n');
    const { version } = await upload('mail', lines, 'more.jsonl');
    expect(version).toMatchObject({ version: 2, rowCount: 4, changes: { format: 'JSONL', source: 'UPLOAD' } });
    expect(version.validation).toMatchObject({ rows: 4, exactDuplicates: 0, normalizedDuplicates: 1, splitsFromFile: 1 });
    const { examples } = await allExamples('mail', 2);
    expect(examples.map((e) => e.text)).toEqual(['hello there', 'cheap pills', 'Ϝrее ｍｏｎｅｙ', 'free money']);
    expect(examples[2]!.split).toBe(examples[3]!.split);
  });

  it('derives a version that stores only the new examples and shares its parent’s', async () => {
    const before = await rowCounts();
    const { deriveDatasetVersion } = await t.client.request(DeriveDatasetVersionDocument, {
      input: {
        dataset: 'mail',
        parentVersion: 1,
        note: 'evaded samples',
        examples: [
          { text: 'F R E E  money click NOW', label: 'spam', source: 'battle/1' },
          { text: 'brand new ham text', label: 'ham', split: 'TEST' },
        ],
      },
    });
    const v = deriveDatasetVersion.version;
    expect(v).toMatchObject({ version: 3, parentVersion: 1, parentId: csvVersion.id, rowCount: 59, lineageVersions: [1, 3] });
    expect(v.changes).toMatchObject({ source: 'DERIVED', added: 2, format: null, note: 'evaded samples' });
    expect(v.lineage).toEqual([csvVersion.id, v.id]);
    expect(v.splitRatio).toBe(csvVersion.splitRatio);
    // The evaded sample is a duplicate (after normalization) of a parent row.
    expect(v.validation.rows).toBe(59);
    expect(v.validation.normalizedDuplicates).toBe(csvVersion.validation.normalizedDuplicates + 1);
    expect(v.validation.classDistribution.map((c) => c.count)).toEqual([34, 25]);

    const after = await rowCounts();
    expect(after).toEqual({ versions: before.versions + 1, examples: before.examples + 2 });
    const [own] = await sql<{ n: string }>('select count(*) as n from example where version_id = ?', [v.id]);
    expect(Number(own!.n)).toBe(2);

    const { examples } = await allExamples('mail', 3, {}, 10);
    expect(examples).toHaveLength(59);
    const parentIds = (await allExamples('mail', 1, {}, 50)).examples.map((e) => e.id);
    expect(examples.slice(0, 57).map((e) => e.id)).toEqual(parentIds);
    expect(examples.slice(57).map((e) => [e.text, e.version])).toEqual([
      ['F R E E  money click NOW', 3],
      ['brand new ham text', 3],
    ]);
    const parentSplit = examples.find((e) => e.source === 'mail/2')!.split;
    expect(examples.find((e) => e.source === 'battle/1')!.split).toBe(parentSplit);

    const unknown = await graphQLFailure(
      t.client.request(DeriveDatasetVersionDocument, { input: { dataset: 'mail', parentVersion: 9, examples: [{ text: 'x', label: 'ham' }] } }),
    );
    expect(unknown).toMatchObject({ code: 'NOT_FOUND', message: 'Dataset mail has no version 9.' });
    const badLabel = await graphQLFailure(
      t.client.request(DeriveDatasetVersionDocument, {
        input: { dataset: 'mail', parentVersion: 1, examples: [{ text: 'ok', label: 'ham' }, { text: 'x', label: 'phish' }] },
      }),
    );
    expect(badLabel.code).toBe('BAD_USER_INPUT');
    expect(badLabel.message).toMatch(/examples\[1\]: label "phish" is not in the dataset's label set/);
    expect(await rowCounts()).toEqual(after);
  });

  it('a derived version is what battles make, from plain data through the service', async () => {
    const { services, db } = t.app.runtime;
    const principal = await services.principals.fromCredential(t.token);
    const created = await services.datasets.deriveVersion(db.fork(), principal, {
      dataset: 'mail',
      parentVersion: 3,
      examples: [{ text: 'fr33 m0ney', label: 'spam', source: 'battle/2' }],
    });
    expect(created.version).toMatchObject({ version: 4, parentVersion: 3, rowCount: 60 });
    expect(created.version.lineage).toHaveLength(3);
  });

  it('exports a version as CSV and JSON Lines, streamed, equal to its examples', async () => {
    const { examples } = await allExamples('mail', 3, {}, 100);
    const expected = examples.map((e) => ({ text: e.text, label: e.label, source: e.source, split: e.split }));
    const { dataset } = await t.client.request(DatasetDocument, { name: 'mail' });
    const v3 = dataset!.versions.find((v) => v.version === 3)!;

    const csv = await fetch(`${t.url}${v3.csvUrl}`, { headers: t.auth });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="mail-v3.csv"');
    const rows = parseCsv(await csv.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => ({ ...r, source: r['source'] || null }))).toEqual(expected);

    const jsonl = await fetch(`${t.url}${v3.jsonlUrl}`, { headers: t.auth });
    expect(jsonl.status).toBe(200);
    const lines = (await jsonl.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual(expected);

    // By name too, and a round trip: the export uploads as an equal version.
    const byName = await fetch(`${t.url}/datasets/mail/versions/3/export?format=csv`, { headers: t.auth });
    const again = await upload('mail', await byName.text(), 'roundtrip.csv');
    expect(again.version.rowCount).toBe(59);
    expect(again.version.validation.classDistribution).toEqual(v3.validation.classDistribution);
    expect(again.version.validation.splits).toEqual(v3.validation.splits);
  });

  it('exports only to those who may read the dataset', async () => {
    const other = await t.signIn('user');
    const viewer = await t.signIn('viewer');
    const path1 = '/datasets/mail/versions/1/export?format=jsonl';
    const status = async (auth: Record<string, string>, p = path1) => {
      const r = await fetch(`${t.url}${p}`, { headers: auth });
      const body = (await r.json().catch(() => null)) as { errors?: { extensions: { code: string } }[] } | null;
      return [r.status, body?.errors?.[0]?.extensions.code];
    };
    expect(await status({})).toEqual([401, 'UNAUTHENTICATED']);
    expect(await status({ authorization: 'Bearer nope' })).toEqual([401, 'UNAUTHENTICATED']);
    expect(await status(other.auth)).toEqual([404, 'NOT_FOUND']);
    expect(await status(viewer.auth)).toEqual([404, 'NOT_FOUND']);
    expect(await status(t.auth, '/datasets/mail/versions/99/export')).toEqual([404, 'NOT_FOUND']);
    expect(await status(t.auth, '/datasets/mail/versions/1/export?format=xml')).toEqual([400, 'BAD_USER_INPUT']);
    // A shared dataset: every signed-in user reads it.
    await t.client.request(CreateDatasetDocument, { input: { name: 'open', labels: ['ham', 'spam'], visibility: 'SHARED' } });
    await upload('open', 'text,label\nhi,ham\n', 'o.csv');
    const r = await fetch(`${t.url}/datasets/open/versions/1/export?format=jsonl`, { headers: viewer.auth });
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/^\{"text":"hi","label":"ham","source":null,"split":"(train|test)"\}\n$/);
    expect((await other.client.request(DatasetsDocument, { first: 100 })).datasets.nodes.map((d) => d.name)).toEqual(['open']);
    expect((await other.client.request(DatasetDocument, { name: 'mail' })).dataset).toBeNull();
    const refused = await graphQLFailure(upload('open', 'text,label\nhi,ham\n', 'o.csv', {}, other.client));
    expect(refused.code).toBe('FORBIDDEN');
  });

  describe('refuses bad files whole, naming the line, and keeps serving', () => {
    let owner: SignedIn;
    beforeAll(async () => {
      owner = await t.signIn('user');
      await owner.client.request(CreateDatasetDocument, { input: { name: 'strict', labels: ['ham', 'spam'] } });
    });

    const good = (n: number) => Array.from({ length: n }, (_, i) => `row ${i},ham`).join('\n');
    const cases: [string, string | Uint8Array, string, RegExp, number | null][] = [
      ['wrong encoding', Buffer.concat([Buffer.from('text,label\nok,ham\ncaf'), Buffer.from([0xe9]), Buffer.from(' latin-1,ham\n')]), 'a.csv', /not valid UTF-8 \(byte 0xe9/, 3],
      ['a missing column', 'text,category\nhello,ham\n', 'a.csv', /header has no "label" column/, 1],
      ['a missing key in JSON Lines', '{"text":"a","label":"ham"}\n{"text":"b"}\n', 'a.jsonl', /has no "label"/, 2],
      ['a label outside the set', `text,label\n${good(3000)}\nhello,phish\n`, 'a.csv', /label "phish" is not in the dataset's label set \(ham, spam\)/, 3002],
      ['a text over the limit', `text,label\nok,ham\n${'x'.repeat(MAX_TEXT + 1)},spam\n`, 'a.csv', /is 1001 characters; the limit is 1000/, 3],
      ['a huge single CSV line', `text,label\nok,ham\n"${'y'.repeat(60_000)}",spam\n`, 'a.csv', /far longer than the text limit/, 3],
      ['a huge single JSON line', `{"text":"ok","label":"ham"}\n{"text":"${'z'.repeat(100_000)}","label":"spam"}\n`, 'a.jsonl', /longer than \d+ bytes/, 2],
      ['an empty text', 'text,label\nok,ham\n"  ",spam\n', 'a.csv', /the text is empty/, 3],
      ['unbalanced CSV quotes', 'text,label\nok,ham\n"never closed,spam\nmore,ham\n', 'a.csv', /never closed \(unbalanced quotes/, 3],
      ['a broken JSON line', `${'{"text":"a","label":"ham"}\n'.repeat(5)}{"text": "b", "label": spam}\n{"text":"c","label":"spam"}\n`, 'a.jsonl', /line 6: not valid JSON/, 6],
      ['a JSON line that is not an object', '["a","ham"]\n', 'a.jsonl', /expected a JSON object/, 1],
      ['an unknown split', 'text,label,split\nok,ham,validation\n', 'a.csv', /split must be "train", "test" or empty/, 2],
      ['a NUL character', '{"text":"a\\u0000b","label":"ham"}\n', 'a.jsonl', /NUL character/, 1],
      ['an unpaired surrogate', '{"text":"a\\ud800b","label":"ham"}\n', 'a.jsonl', /unpaired UTF-16 surrogate/, 1],
      ['an empty file', '', 'a.csv', /has no rows/, null],
      ['a header and nothing else', 'text,label\n', 'a.csv', /has no rows/, null],
      ['a file over the size limit', `text,label\n${'row,ham\n'.repeat(UPLOAD_LIMIT / 8 + 10)}`, 'a.csv', /larger than the upload limit of 262144 bytes \(ARENA_DATASET_UPLOAD_LIMIT_BYTES\)/, null],
      ['an unknown format', 'text,label\nok,ham\n', 'a.txt', /Cannot tell the format of "a.txt"/, null],
    ];

    it.each(cases)('%s', async (_name, content, fileName, message, line) => {
      const before = await rowCounts();
      const error = await graphQLFailure(upload('strict', content, fileName, {}, owner.client));
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.message).toMatch(message);
      const problems = error.errors[0]!.extensions!['problems'] as { line: number; message: string }[] | undefined;
      if (line !== null) {
        expect(error.message).toMatch(new RegExp(`line ${line}\\b|\\[${line - 1}\\]`));
        expect(problems?.[0]).toMatchObject({ line });
      }
      expect(await rowCounts()).toEqual(before);
      expect((await owner.client.request(DatasetDocument, { name: 'strict' })).dataset!.versions).toEqual([]);
    });

    it('lists the first problems with their lines and counts the rest', async () => {
      const lines = ['text,label', ...Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? `bad ${i},phish` : `ok ${i},ham`))];
      const error = await graphQLFailure(upload('strict', lines.join('\n'), 'a.csv', {}, owner.client));
      const ext = error.errors[0]!.extensions!;
      expect(ext['problemCount']).toBe(15);
      expect((ext['problems'] as { line: number }[]).map((p) => p.line)).toEqual(Array.from({ length: 15 }, (_, i) => 2 + 2 * i));
      expect(error.message).toMatch(/^The file was refused: line 2: label "phish".*\(and 14 more problems in extensions.problems\) Nothing was stored\.$/);
    });

    it('leaves no spooled file behind and still answers', async () => {
      const tmp = await readdir(path.join(t.config.dataDir, 'tmp')).catch(() => []);
      expect(tmp).toEqual([]);
      expect((await fetch(`${t.url}/health`)).status).toBe(200);
      expect((await owner.client.request(DatasetsDocument, {})).datasets.nodes.map((d) => d.name)).toEqual(['open', 'strict']);
    });
  });

  it('refuses to delete a dataset a model version was trained on, then deletes it with its rows', async () => {
    await t.client.request(CreateDatasetDocument, { input: { name: 'doomed', labels: ['ham', 'spam'] } });
    const { version } = await upload('doomed', 'text,label\na,ham\nb,spam\n', 'd.csv');
    await t.client.request(CreateModelDocument, { input: { name: 'trained', labels: ['ham', 'spam'] } });
    const { services, db } = t.app.runtime;
    const modelVersion = await services.registry.registerVersion(db.fork(), 'trained', {
      bytes: exportOnnx(randomWeights(['ham', 'spam'], 4, 1 << 8, mulberry32(1))),
      featurizerSpec: { ...DEFAULT_FEATURIZER_SPEC, buckets: 1 << 8 },
      signature: { ...exportedSignature(2) },
      source: 'TRAINING',
      datasetVersionId: version.id,
    });
    const refused = await graphQLFailure(t.client.request(DeleteDatasetDocument, { input: { dataset: 'doomed' } }));
    expect(refused.code).toBe('CONFLICT');
    expect(refused.message).toBe('Dataset doomed cannot be deleted while something depends on it: model trained version 1 (trained on version 1). Delete those first.');
    expect((await t.client.request(DatasetDocument, { name: 'doomed' })).dataset).not.toBeNull();

    await services.registry.deleteVersion(db.fork(), await services.principals.fromCredential(t.token), 'trained', modelVersion.version);
    const before = await rowCounts();
    const { deleteDataset } = await t.client.request(DeleteDatasetDocument, { input: { dataset: 'doomed' } });
    expect(deleteDataset.deletedDataset.name).toBe('doomed');
    expect((await t.client.request(DatasetDocument, { name: 'doomed' })).dataset).toBeNull();
    expect(await rowCounts()).toEqual({ versions: before.versions - 1, examples: before.examples - 2 });
    expect((await graphQLFailure(t.client.request(DeleteDatasetDocument, { input: { dataset: 'doomed' } }))).code).toBe('NOT_FOUND');
  });

  it('refuses bad datasets without creating anything', async () => {
    const cases = [
      [{ name: 'mail', labels: ['ham', 'spam'] }, 'CONFLICT', /already exists/],
      [{ name: 'Bad Name', labels: ['ham', 'spam'] }, 'BAD_USER_INPUT', /name must be/],
      [{ name: 'one', labels: ['ham'] }, 'BAD_USER_INPUT', /2 to 100 labels/],
      [{ name: '6f1c2a40-0000-4000-8000-000000000000', labels: ['a', 'b'] }, 'BAD_USER_INPUT', /must not look like an id/],
    ] as const;
    for (const [input, code, message] of cases) {
      const error = await graphQLFailure(t.client.request(CreateDatasetDocument, { input: { ...input, labels: [...input.labels] } }));
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
  });

  it('finds a dataset by id or by name', async () => {
    const byName = (await t.client.request(DatasetDocument, { name: 'mail' })).dataset!;
    const byId = (await t.client.request(DatasetDocument, { id: byName.id })).dataset!;
    expect(byId.name).toBe('mail');
    expect((await graphQLFailure(t.client.request(DatasetDocument, {}))).code).toBe('BAD_USER_INPUT');
  });
});

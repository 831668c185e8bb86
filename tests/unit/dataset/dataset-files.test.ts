import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvRecordLines, fileRecords, formatOfFileName, type DatasetFormat } from '../../../src/services/dataset/records.js';
import { firstInvalidUtf8 } from '../../../src/services/dataset/utf8.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'arena-dataset-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(content: string | Buffer, format: DatasetFormat, maxTextLength = 100) {
  const file = path.join(dir, `f-${Math.random()}`);
  await writeFile(file, content);
  const items: unknown[] = [];
  try {
    for await (const batch of fileRecords(file, format, maxTextLength)) items.push(...batch);
    return { items };
  } catch (error) {
    return { items, error: (error as Error).message };
  }
}

describe('dataset files', () => {
  it.each([
    ['a.csv', 'csv'],
    ['A.JSONL', 'jsonl'],
    ['x.ndjson', 'jsonl'],
    ['x.txt', undefined],
    [null, undefined],
  ])('format of %j is %j', (name, format) => {
    expect(formatOfFileName(name)).toBe(format);
  });

  it('reads CSV records with their numbers, a BOM and CRLF, and finds the lines they end on when asked', async () => {
    const content = '\uFEFFtext,label\r\n"two\nlines",ham\r\n\r\nplain,spam\r\n';
    const { items, error } = await read(content, 'csv');
    expect(error).toBeUndefined();
    expect(items).toEqual([
      { line: 2, record: 1, fields: { text: 'two\nlines', label: 'ham' } },
      { line: 3, record: 2, fields: { text: 'plain', label: 'spam' } },
    ]);
    const file = path.join(dir, 'lines.csv');
    await writeFile(file, content);
    expect(await csvRecordLines(file, 100, new Set([1, 2]))).toEqual(new Map([[1, 3], [2, 5]]));
  });

  it.each([
    ['unbalanced quotes', 'text,label\nok,ham\n"open,spam\n', /^line 3: a quoted field opened on or after this line is never closed/],
    ['too many cells', 'text,label\nok,ham,extra\n', /^line 2: Invalid Record Length/],
    ['a bad closing quote', 'text,label\n"a"b,ham\n', /^line 2: Invalid Closing Quote/],
    ['a record far past the limit', `text,label\n"${'x'.repeat(10_000)}",ham\n`, /^line 2: the record is far longer than the text limit of 100 characters/],
    ['invalid UTF-8', Buffer.concat([Buffer.from('text,label\nok,ham\nbad '), Buffer.from([0xc3, 0x28]), Buffer.from(',ham\n')]), /^line 3: the file is not valid UTF-8 \(byte 0xc3 at offset 22\)/],
    ['a truncated character', Buffer.concat([Buffer.from('text,label\nok,ham\n'), Buffer.from([0xe2, 0x82])]), /^line 3: the file is not valid UTF-8 \(the file ends inside a multi-byte character\)/],
  ])('stops a CSV at %s', async (_name, content, message) => {
    expect((await read(content, 'csv')).error).toMatch(message);
  });

  it('reads JSON Lines, reporting broken lines and going on', async () => {
    const { items, error } = await read('{"text":"a","label":"ham"}\n\n{oops}\n[1]\n{"text":"b","label":"spam"}', 'jsonl');
    expect(error).toBeUndefined();
    expect(items).toMatchObject([
      { line: 1, fields: { text: 'a' } },
      { line: 3, problem: { kind: 'MALFORMED', message: expect.stringMatching(/^line 3: not valid JSON/) } },
      { line: 4, problem: { kind: 'MALFORMED', message: 'line 4: expected a JSON object like {"text": …, "label": …}.' } },
      { line: 5, fields: { text: 'b', label: 'spam' } },
    ]);
  });

  it('refuses a JSON line far past the limit without holding it', async () => {
    const { items, error } = await read(`{"text":"a","label":"ham"}\n{"text":"${'x'.repeat(2_000_000)}"}\n`, 'jsonl');
    expect(items).toHaveLength(1);
    expect(error).toMatch(/^line 2: the line is longer than 10696 bytes/);
  });

  it('checks UTF-8 across chunk boundaries (multi-byte characters split between reads)', async () => {
    const text = 'é€😀'.repeat(200_000); // > one 256 KiB read, so characters straddle chunks
    const { items, error } = await read(`{"text":"${text.slice(0, 50)}","label":"ham"}\n`.repeat(3) + `{"text":"${text}","label":"ham"}\n`, 'jsonl', 10_000_000);
    expect(error).toBeUndefined();
    expect(items).toHaveLength(4);
    expect((items[3] as { fields: { text: string } }).fields.text).toBe(text);
  });

  it.each([
    [[0x61, 0x62], -1],
    [[0xc3, 0xa9], -1],
    [[0x61, 0xff], 1],
    [[0xc0, 0xaf], 0], // overlong
    [[0xed, 0xa0, 0x80], 0], // surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // > U+10FFFF
    [[0x61, 0xe2, 0x82], 1], // truncated
  ])('firstInvalidUtf8(%j) = %i', (bytes, at) => {
    expect(firstInvalidUtf8(new Uint8Array(bytes))).toBe(at);
  });
});

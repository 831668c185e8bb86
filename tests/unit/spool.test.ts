import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTooLargeError, spoolToFile, sweepSpool } from '../../src/storage/spool.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'arena-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('spoolToFile', () => {
  it('writes the stream to a private file, hashing and counting it', async () => {
    const spooled = await spoolToFile(Readable.from([Buffer.from('hello '), Buffer.from('world')]), dir, 100);
    expect(spooled).toMatchObject({ sizeBytes: 11, sha256: 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9' });
    await spooled.remove();
    expect(await readdir(dir)).toEqual([]);
  });

  it('cuts an oversized stream off at the limit and leaves no file', async () => {
    await expect(spoolToFile(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), dir, 100)).rejects.toBeInstanceOf(FileTooLargeError);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('sweepSpool', () => {
  it('removes only old upload files', async () => {
    const old = path.join(dir, 'upload-1-aaaa.part');
    const fresh = path.join(dir, 'upload-2-bbbb.part');
    const other = path.join(dir, 'keep-me.txt');
    for (const f of [old, fresh, other]) await writeFile(f, 'x');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(old, hourAgo, hourAgo);
    await utimes(other, hourAgo, hourAgo);
    expect(await sweepSpool(dir, 60_000)).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(['keep-me.txt', 'upload-2-bbbb.part']);
    expect(await sweepSpool(path.join(dir, 'missing'), 0)).toBe(0);
  });
});

import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../src/storage/artifact-store.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'arena-artifacts-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('FsArtifactStore', () => {
  it('stores by content hash, reads back the same bytes, and deduplicates', async () => {
    const store = new FsArtifactStore(root);
    const bytes = new TextEncoder().encode('model bytes');
    const sha = createHash('sha256').update(bytes).digest('hex');
    const first = await store.put(bytes, 'onnx');
    expect(first).toEqual({ key: `sha256/${sha.slice(0, 2)}/${sha}.onnx`, sha256: sha, sizeBytes: 11, created: true });
    expect(await store.get(first.key)).toEqual(Buffer.from(bytes));
    expect((await store.put(bytes, 'onnx')).created).toBe(false);
    expect(await readdir(path.join(root, 'sha256', sha.slice(0, 2)))).toEqual([`${sha}.onnx`]); // no temp files left
    await store.delete(first.key);
    expect(await store.exists(first.key)).toBe(false);
  });

  it('refuses keys that could escape its directory', async () => {
    const store = new FsArtifactStore(root);
    await expect(store.get('../../etc/passwd')).rejects.toThrow(/Not an artifact key/);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface StoredArtifact {
  /** Where the store keeps it; content-addressed, so equal bytes share a key. */
  readonly key: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** False when identical bytes were already stored. */
  readonly created: boolean;
}

/** Immutable blobs (model files). A port, so an S3-compatible store can follow the filesystem one. */
export interface ArtifactStore {
  put(bytes: Uint8Array, extension: string): Promise<StoredArtifact>;
  /** Takes over a file already written and hashed (an upload); the file is moved or deleted. */
  putFile(file: string, sha256: string, sizeBytes: number, extension: string): Promise<StoredArtifact>;
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
}

/** Under `<ARENA_DATA_DIR>/artifacts/sha256/ab/abcdef….onnx`; written to a temp file and renamed, so a crash never leaves half a file under a real key. */
export class FsArtifactStore implements ArtifactStore {
  constructor(private readonly root: string) {}

  private file(key: string): string {
    if (!/^sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\.[a-z0-9]{1,16}$/.test(key)) throw new Error(`Not an artifact key: ${key}`);
    return path.join(this.root, key);
  }

  async put(bytes: Uint8Array, extension: string): Promise<StoredArtifact> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const key = `sha256/${sha256.slice(0, 2)}/${sha256}.${extension}`;
    const file = this.file(key);
    if (await this.exists(key)) return { key, sha256, sizeBytes: bytes.byteLength, created: false };
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, bytes, { flag: 'wx' });
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { key, sha256, sizeBytes: bytes.byteLength, created: true };
  }

  async putFile(source: string, sha256: string, sizeBytes: number, extension: string): Promise<StoredArtifact> {
    const key = `sha256/${sha256.slice(0, 2)}/${sha256}.${extension}`;
    const file = this.file(key);
    if (await this.exists(key)) {
      await rm(source, { force: true });
      return { key, sha256, sizeBytes, created: false };
    }
    await mkdir(path.dirname(file), { recursive: true });
    try {
      await rename(source, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      // Another filesystem: copy to a temp name beside the target, then rename.
      const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await copyFile(source, temp);
        await rename(temp, file);
      } finally {
        await rm(temp, { force: true });
        await rm(source, { force: true });
      }
    }
    return { key, sha256, sizeBytes, created: true };
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.file(key));
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.file(key)).then(
      () => true,
      () => false,
    );
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }
}

import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface SpooledFile {
  readonly path: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** Deletes the file (idempotent). */
  remove(): Promise<void>;
}

/** Thrown when the stream outgrows the limit; the partial file is already gone. */
export class FileTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`the file is larger than the limit of ${limitBytes} bytes`);
    this.name = 'FileTooLargeError';
  }
}

/**
 * Streams an upload to a private temp file, hashing and counting as it goes, so a large upload
 * never sits in memory and an oversized one is cut off at the limit. A failure leaves no file.
 */
export async function spoolToFile(source: Readable, dir: string, limitBytes: number): Promise<SpooledFile> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `upload-${Date.now()}-${randomBytes(6).toString('hex')}.part`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.byteLength;
      if (size > limitBytes) return done(new FileTooLargeError(limitBytes));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, meter, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    source.destroy();
    await rm(file, { force: true });
    throw error;
  }
  const remove = () => rm(file, { force: true });
  return { path: file, sha256: hash.digest('hex'), sizeBytes: size, remove };
}

/**
 * Deletes spool files older than `olderThanMs`: what a process killed mid-upload left behind.
 * Younger files may belong to an upload in progress in another process sharing the directory.
 * Returns how many were removed.
 */
export async function sweepSpool(dir: string, olderThanMs: number, now = Date.now()): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!/^upload-.*\.part$/.test(name)) continue;
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && now - info.mtimeMs > olderThanMs) {
      await rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}

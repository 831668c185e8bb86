import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';

/** Thrown where the file itself cannot be read on: the problem names its line. */
export class FileProblem extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'FileProblem';
  }
}

/**
 * Where an incomplete UTF-8 sequence starts at the end of `chunk` (chunk.length when none), so the
 * bytes of a character split between two reads are checked together.
 */
function incompleteTail(chunk: Buffer): number {
  for (let i = chunk.length - 1; i >= Math.max(0, chunk.length - 3); i--) {
    const b = chunk[i]!;
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0xc0) return chunk.length;
    const needed = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return chunk.length - i < needed ? i : chunk.length;
  }
  return chunk.length;
}

/** Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    if (i + need >= buf.length) return i;
    let cp = b & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** 1-based line of a byte offset: newlines before it, plus one (read again from disk; only on the error path). */
async function lineAt(path: string, offset: number): Promise<number> {
  let line = 1;
  let seen = 0;
  for await (const chunk of createReadStream(path, { end: Math.max(0, offset - 1) }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) line++;
    seen += chunk.length;
  }
  return seen === 0 ? 1 : line;
}

/**
 * The file's bytes, checked as well-formed UTF-8 as they stream (node's native isUtf8 per chunk),
 * in chunks that never split a character. Invalid bytes stop the read with a FileProblem naming
 * their line. A leading byte-order mark is dropped.
 */
export async function* utf8Chunks(path: string): AsyncGenerator<Buffer> {
  let carry: Buffer | undefined;
  let offset = 0;
  let first = true;
  const refuse = async (at: number, byte: number | undefined): Promise<never> => {
    const what = byte === undefined ? 'the file ends inside a multi-byte character' : `byte 0x${byte.toString(16).padStart(2, '0')} at offset ${at}`;
    throw new FileProblem(await lineAt(path, at), `the file is not valid UTF-8 (${what}); save it as UTF-8.`);
  };
  for await (const raw of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    let chunk = carry ? Buffer.concat([carry, raw]) : raw;
    let start = offset - (carry?.length ?? 0);
    carry = undefined;
    if (first) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        chunk = chunk.subarray(3);
        start += 3;
      }
    }
    const end = incompleteTail(chunk);
    const whole = end === chunk.length ? chunk : chunk.subarray(0, end);
    if (!isUtf8(whole)) {
      const bad = firstInvalidUtf8(whole);
      await refuse(start + bad, whole[bad]);
    }
    if (end < chunk.length) carry = Buffer.from(chunk.subarray(end));
    offset += raw.length;
    if (whole.length > 0) yield whole;
  }
  if (carry) await refuse(offset - carry.length, undefined);
}

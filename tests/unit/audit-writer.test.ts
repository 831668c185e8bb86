import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { AuditWriter, type AuditEntry } from '../../src/services/inference/audit-writer.js';

const log = pino({ level: 'silent' });

const entry = (n: number): AuditEntry => ({
  kind: 'CLASSIFY',
  principal: null,
  requestId: `r${n}`,
  modelName: 'm',
  modelVersionId: '00000000-0000-0000-0000-000000000001',
  version: 1,
  inputDigest: String(n).padStart(64, '0'),
  inputCount: 1,
  inputLength: n,
  label: 'spam',
  output: {},
  latencyMs: 1,
  cachedCount: 0,
  createdAt: new Date(0),
});

/** The writer's only use of the database: one statement per batch, its rows as one JSON parameter. (The real table is tested in tests/integration.) */
function fakeDb(fail: () => boolean) {
  const batches: number[][] = [];
  const db = {
    fork: () => ({
      getConnection: () => ({
        execute: async (_sql: string, [json]: [string]) => {
          if (fail()) throw new Error('database unreachable');
          batches.push((JSON.parse(json) as { input_length: number }[]).map((r) => r.input_length));
        },
      }),
    }),
  } as unknown as Database;
  return { db, batches };
}

describe('AuditWriter', () => {
  it('buffers entries and writes them in batches on its timer, never inline', async () => {
    const { db, batches } = fakeDb(() => false);
    const writer = new AuditWriter(db, log, { flushMs: 10, batchSize: 2 });
    writer.record([entry(1)]);
    expect(batches).toEqual([]); // nothing written on the caller's path
    writer.record([entry(2), entry(3)]);
    await new Promise((r) => setTimeout(r, 30));
    expect(batches.flat()).toEqual([1, 2, 3]);
    expect(batches.every((b) => b.length <= 2)).toBe(true);
    expect(writer.written).toBe(3);
    await writer.close();
  });

  it('keeps entries through a failed write and writes them once the database is back', async () => {
    let down = true;
    const { db, batches } = fakeDb(() => down);
    const writer = new AuditWriter(db, log, { flushMs: 10 });
    writer.record([entry(1), entry(2)]);
    await writer.flush();
    expect(writer.pending).toBe(2);
    down = false;
    await writer.flush();
    expect(batches.flat()).toEqual([1, 2]);
    expect(writer.pending).toBe(0);
    await writer.close();
  });

  it('drops the oldest entries past its bound, counting them, and flushes the rest on close', async () => {
    const { db, batches } = fakeDb(() => false);
    const writer = new AuditWriter(db, log, { flushMs: 60_000, maxBuffered: 3, batchSize: 100 });
    writer.record([1, 2, 3, 4, 5].map(entry));
    expect(writer.dropped).toBe(2);
    await writer.close();
    expect(batches.flat()).toEqual([3, 4, 5]);
  });
});

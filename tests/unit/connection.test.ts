import { describe, expect, it } from 'vitest';
import { decodeCursor, decodeIntCursor, encodeCursor, encodeKeyCursor, pageSize, toConnection } from '../../src/graphql/connection.js';
import { AppError } from '../../src/errors.js';

describe('cursors', () => {
  it('round-trips (createdAt, id)', () => {
    const cursor = encodeCursor('2026-01-01T00:00:00.000Z', 'abc');
    expect(decodeCursor(cursor)).toEqual({ createdAt: new Date('2026-01-01T00:00:00.000Z'), id: 'abc' });
  });

  it.each(['garbage', Buffer.from('not-a-date|x').toString('base64url'), Buffer.from('2026-01-01T00:00:00Z|a|b').toString('base64url')])(
    'rejects %s with BAD_USER_INPUT',
    (cursor) => {
      expect(() => decodeCursor(cursor)).toThrow(AppError);
      try {
        decodeCursor(cursor);
      } catch (e) {
        expect((e as AppError).code).toBe('BAD_USER_INPUT');
      }
    },
  );

  it.each([[0], [101], [1.5], [-3]])('refuses page size %s', (n) => {
    expect(() => pageSize(n)).toThrow(/first must be from 1 to 100/);
  });

  it('builds edges, nodes and pageInfo', () => {
    const nodes = [
      { id: 'b', createdAt: '2026-01-02T00:00:00.000Z' },
      { id: 'a', createdAt: '2026-01-01T00:00:00.000Z' },
    ];
    const c = toConnection(nodes, true, 7);
    expect(c.totalCount).toBe(7);
    expect(c.nodes).toBe(nodes);
    expect(c.edges.map((e) => e.node.id)).toEqual(['b', 'a']);
    expect(c.pageInfo).toEqual({ hasNextPage: true, endCursor: encodeCursor('2026-01-01T00:00:00.000Z', 'a') });
    expect(toConnection([], false, 0).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });

  it('counts lazily when given a thunk: only when totalCount is read, and once', async () => {
    let counts = 0;
    const c = toConnection([{ index: 3 }], false, async () => ++counts * 10, (n) => encodeKeyCursor('result', n.index));
    expect(counts).toBe(0);
    expect(await c.totalCount).toBe(10);
    expect(await c.totalCount).toBe(10);
    expect(counts).toBe(1);
    expect(decodeIntCursor('result', c.pageInfo.endCursor)).toBe(3);
  });
});

describe('key cursors', () => {
  it('round-trip integer keys of their own kind only', () => {
    expect(decodeIntCursor('log', encodeKeyCursor('log', 42))).toBe(42);
    expect(decodeIntCursor('log', undefined)).toBeUndefined();
    for (const bad of [encodeKeyCursor('result', 42), encodeKeyCursor('log', -1), encodeKeyCursor('log', 'x'), encodeKeyCursor('log', 1.5), 'garbage']) {
      expect(() => decodeIntCursor('log', bad), bad).toThrow(/not a cursor this API issued/);
    }
  });
});

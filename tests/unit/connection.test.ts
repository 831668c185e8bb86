import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageSize, toConnection } from '../../src/graphql/connection.js';
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
});

import 'reflect-metadata';
import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { badInput } from '../errors.js';

@ObjectType({ description: 'Relay pagination state.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface ConnectionShape<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** A Relay connection base with `<Name>Edge` edges, `nodes` and `totalCount`. */
export function Connection<T extends object>(nodeType: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  // Abstract: the subclass (`class XConnection extends Connection(X, 'X')`) gives the type its name.
  @ObjectType()
  abstract class ConnectionType implements ConnectionShape<T> {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => [nodeType], { description: 'The nodes of `edges`, for clients that need no cursors.' })
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'Every item the connection would list, across all pages.' })
    totalCount!: number;
  }
  return ConnectionType;
}

export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number | null | undefined, fallback = 20): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
    throw badInput(`first must be from 1 to ${MAX_PAGE_SIZE}.`, { field: 'first' });
  }
  return n;
}

/** Opaque cursors over (createdAt, id), newest-first keyset order. */
export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): { createdAt: Date; id: string } | undefined {
  if (cursor == null) return undefined;
  const [createdAt, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(createdAt ?? '');
  if (!id || extra !== undefined || Number.isNaN(date.getTime())) {
    throw badInput('after is not a cursor this API issued; pass an endCursor from a previous page.', { field: 'after' });
  }
  return { createdAt: date, id };
}

const notOurCursor = () => badInput('after is not a cursor this API issued; pass an endCursor from a previous page.', { field: 'after' });

/** Opaque cursors over one unique sort key of a kind (`name`, `log`, `result`…). */
export function encodeKeyCursor(kind: string, key: string | number): string {
  return Buffer.from(`${kind}|${key}`).toString('base64url');
}

export function decodeKeyCursor(kind: string, cursor: string | null | undefined): string | undefined {
  if (cursor == null) return undefined;
  const [k, key, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (k !== kind || !key || extra !== undefined) throw notOurCursor();
  return key;
}

/** A key cursor whose key is a non-negative integer (an id, a position). */
export function decodeIntCursor(kind: string, cursor: string | null | undefined): number | undefined {
  const key = decodeKeyCursor(kind, cursor);
  if (key === undefined) return undefined;
  const n = Number(key);
  if (!Number.isSafeInteger(n) || n < 0) throw notOurCursor();
  return n;
}

/** Cursors over a unique name, for connections ordered by name. */
export const encodeNameCursor = (name: string) => encodeKeyCursor('name', name);
export const decodeNameCursor = (cursor: string | null | undefined) => decodeKeyCursor('name', cursor);

/**
 * A Relay connection of one page. `totalCount` may be a thunk: it is then counted only when a
 * client selects the field (counting a large table costs more than the page).
 */
export function toConnection<T extends { id: string; createdAt: string }>(
  nodes: T[],
  hasMore: boolean,
  totalCount: number | (() => Promise<number>),
  cursorOf?: (node: T) => string,
): ConnectionShape<T>;
export function toConnection<T>(nodes: T[], hasMore: boolean, totalCount: number | (() => Promise<number>), cursorOf: (node: T) => string): ConnectionShape<T>;
export function toConnection<T>(
  nodes: T[],
  hasMore: boolean,
  totalCount: number | (() => Promise<number>),
  cursorOf: (node: T) => string = (node) => {
    const n = node as { id: string; createdAt: string };
    return encodeCursor(n.createdAt, n.id);
  },
): ConnectionShape<T> {
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  const pageInfo = { hasNextPage: hasMore, endCursor: edges.at(-1)?.cursor ?? null };
  if (typeof totalCount === 'number') return { edges, nodes, totalCount, pageInfo };
  let counted: Promise<number> | undefined;
  // graphql-js and graphql-jit await a promise a field resolves to.
  return Object.defineProperty({ edges, nodes, pageInfo }, 'totalCount', {
    enumerable: true,
    get: () => (counted ??= totalCount()),
  }) as ConnectionShape<T>;
}

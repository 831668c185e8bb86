import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';

/** The errors a GraphQL response carried; `code` is the first error's `extensions.code`. */
export class ArenaGraphQLError extends Error {
  readonly code: string | undefined;

  constructor(readonly errors: readonly GraphQLFormattedError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'ArenaGraphQLError';
    this.code = errors[0]?.extensions?.['code'] as string | undefined;
  }
}

export interface ArenaClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:4000`; `/graphql` is appended. */
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** Node has no global WebSocket before v22: pass `WebSocket` from the `ws` package. */
  readonly webSocketImpl?: unknown;
  readonly fetch?: typeof fetch;
  /** Sent as graphql-ws `connectionParams` (with `authorization` added when `token` is given). */
  readonly connectionParams?: Record<string, unknown>;
  /**
   * An access token or API key, sent as "Authorization: Bearer …" over HTTP and in
   * connectionParams over WebSocket. A function is asked before each request and each
   * connection, so it can hand out a refreshed token.
   */
  readonly token?: string | (() => string | undefined | Promise<string | undefined>);
}

export interface ArenaClient {
  /** Blobs or Files in the variables (an `Upload`) are sent as a GraphQL multipart request. */
  request<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R>;
  /** Each event's data until the server completes the subscription; errors are thrown. */
  subscribe<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V): AsyncIterableIterator<R>;
  close(): Promise<void>;
}

const printed = new WeakMap<object, string>();
const source = (document: object) => {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document as never)));
  return text;
};

interface FileAt {
  readonly path: string;
  readonly file: Blob;
}

/** A copy of the variables with every Blob (or File) replaced by null, and where each one was. */
function extractFiles(value: unknown, path: string, found: FileAt[]): unknown {
  if (typeof Blob !== 'undefined' && value instanceof Blob) {
    found.push({ path, file: value });
    return null;
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => extractFiles(v, `${path}.${i}`, found));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, extractFiles(v, `${path}.${k}`, found)]));
}

function multipartBody(operations: { query: string; variables: unknown }, files: readonly FileAt[]): FormData {
  const form = new FormData();
  form.append('operations', JSON.stringify(operations));
  form.append('map', JSON.stringify(Object.fromEntries(files.map((f, i) => [String(i), [f.path]]))));
  files.forEach((f, i) => form.append(String(i), f.file, f.file instanceof File ? f.file.name : `file${i}`));
  return form;
}

/** A small typed client over the generated documents: HTTP for queries and mutations, graphql-ws for subscriptions. */
export function createArenaClient(options: ArenaClientOptions): ArenaClient {
  const httpUrl = new URL('/graphql', options.url).toString();
  const wsUrl = httpUrl.replace(/^http/, 'ws');
  const doFetch = options.fetch ?? fetch;
  const token = async (): Promise<string | undefined> => (typeof options.token === 'function' ? options.token() : options.token);
  const authorization = async (): Promise<Record<string, string>> => {
    const t = await token();
    return t ? { authorization: `Bearer ${t}` } : {};
  };
  let ws: Client | undefined;
  const socket = () =>
    (ws ??= createClient({
      url: wsUrl,
      lazy: true,
      ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
      connectionParams: async () => ({ ...options.connectionParams, ...(await authorization()) }),
    }));

  return {
    async request(document, variables) {
      const accept = 'application/graphql-response+json, application/json';
      const files: FileAt[] = [];
      const operations = { query: source(document), variables: extractFiles(variables, 'variables', files) };
      const auth = options.token === undefined ? {} : await authorization();
      const response = await doFetch(
        httpUrl,
        files.length === 0
          ? {
              method: 'POST',
              headers: { 'content-type': 'application/json', accept, ...auth, ...options.headers },
              body: JSON.stringify(operations),
            }
          : {
              method: 'POST',
              // Uploads are multipart requests (graphql-multipart-request-spec); the header is
              // what the server's CSRF prevention asks of them. fetch sets the boundary.
              headers: { accept, 'apollo-require-preflight': 'true', ...auth, ...options.headers },
              body: multipartBody(operations, files),
            },
      );
      const body = (await response.json().catch(() => undefined)) as { data?: unknown; errors?: GraphQLFormattedError[] } | undefined;
      if (!body) throw new ArenaGraphQLError([{ message: `HTTP ${response.status} without a JSON body` }]);
      if (body.errors?.length) throw new ArenaGraphQLError(body.errors);
      return body.data as never;
    },

    subscribe(document, variables) {
      const results = socket().iterate({ query: source(document), variables: variables as Record<string, unknown> | undefined });
      return {
        async next() {
          let step: IteratorResult<{ data?: unknown; errors?: unknown }>;
          try {
            step = await results.next();
          } catch (error) {
            // graphql-ws rejects with the server's error list when it refuses the operation.
            if (Array.isArray(error)) throw new ArenaGraphQLError(error as GraphQLFormattedError[]);
            throw error;
          }
          if (step.done) return { done: true, value: undefined };
          const errors = step.value.errors as readonly GraphQLFormattedError[] | undefined;
          if (errors?.length) {
            await results.return?.();
            throw new ArenaGraphQLError(errors);
          }
          return { done: false, value: step.value.data as never };
        },
        async return() {
          await results.return?.();
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },

    async close() {
      await ws?.dispose();
    },
  };
}

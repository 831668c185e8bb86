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
  /** Sent as graphql-ws `connectionParams`. */
  readonly connectionParams?: Record<string, unknown>;
}

export interface ArenaClient {
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

/** A small typed client over the generated documents: HTTP for queries and mutations, graphql-ws for subscriptions. */
export function createArenaClient(options: ArenaClientOptions): ArenaClient {
  const httpUrl = new URL('/graphql', options.url).toString();
  const wsUrl = httpUrl.replace(/^http/, 'ws');
  const doFetch = options.fetch ?? fetch;
  let ws: Client | undefined;
  const socket = () =>
    (ws ??= createClient({
      url: wsUrl,
      lazy: true,
      ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
      ...(options.connectionParams ? { connectionParams: options.connectionParams } : {}),
    }));

  return {
    async request(document, variables) {
      const response = await doFetch(httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...options.headers },
        body: JSON.stringify({ query: source(document), variables }),
      });
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

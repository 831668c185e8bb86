import { createSourceEventStream, execute, getOperationAST, subscribe, type ExecutionArgs, type ExecutionResult, type FieldNode, type OperationDefinitionNode } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import type { WebSocket } from 'ws';

/**
 * Fan-out of high-rate subscriptions over graphql-ws, for root fields whose events many clients
 * watch at once (a battle's rounds): each event is executed and serialized once per distinct
 * query, not once per subscriber, and a client that reads slower than events come gets them
 * coalesced (the rounds of several events in one message) instead of an unbounded queue.
 *
 * Per subscriber, as before: the subscribe resolver runs with its own context (authorization,
 * NOT_FOUND), its source stream is read on its own (the per-event sign-in check), and errors go
 * to it alone. What is shared is the execution of an event against a query text, so a field may
 * be listed only if resolving its payload reads nothing from the context (battleRoundCompleted:
 * the payload is the data).
 *
 * How it works: `subscribe` (graphql-ws's option) hands graphql-ws an iterator that yields
 * nothing and ends when the stream does, while this module writes the `next` messages to the
 * subscriber's socket itself, one at a time (the next waits for the previous to reach the
 * kernel), merging whatever arrived meanwhile. graphql-ws still owns the protocol: the
 * subscription's id, `complete` after the last message, `return()` on unsubscribe or close.
 * Anything else (other fields, documents whose shape it cannot merge) takes the normal path.
 */
export interface CoalescedField {
  /** The list in the field's payload that concatenates when events merge (`rounds`). */
  readonly list: string;
}

export interface WsFanoutOptions {
  /** Subscription root fields served here, by name. */
  readonly fields: Readonly<Record<string, CoalescedField>>;
  /** What graphql-ws's onNext does to a result (format errors); run once per event and query. */
  readonly formatResult: (result: ExecutionResult) => ExecutionResult;
  /** A coalesced message stops growing past this many bytes of list items (default 1 MiB). */
  readonly maxMessageBytes?: number;
}

export interface WsFanout {
  /** Call from graphql-ws's `context` option: ties the context to the subscriber's socket and operation. */
  bind<C extends object>(contextValue: C, socket: WebSocket, id: string, payload: { query: string; operationName?: string | null; variables?: unknown }): C;
  /** graphql-ws's `subscribe` option. */
  subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
}

/** What graphql-ws needs to end a subscription early: `return` (it checks for one). */
type Subscription = AsyncIterableIterator<ExecutionResult> & Required<Pick<AsyncIterator<ExecutionResult>, 'return' | 'throw'>>;

interface Binding {
  readonly socket: WebSocket;
  /** The message prefix, `{"id":"…","type":"next","payload":`. */
  readonly prefix: Buffer;
  /** Query text, operation name and variables: what makes two subscribers' results the same. */
  readonly key: string;
}

/** One event's result for one query, serialized: whole, and cut around the list for merging. */
interface Pieces {
  readonly whole: Buffer;
  readonly merge: { readonly head: Buffer; readonly items: Buffer; readonly tail: Buffer } | null;
}

interface Plan {
  readonly rootKey: string;
  readonly listKey: string;
}

const SUFFIX = Buffer.from('}');
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');
const COMMA = Buffer.from(',');
const SENTINEL = '\u0000ws-fanout-list\u0000';
const SENTINEL_JSON = JSON.stringify(SENTINEL);

export function createWsFanout(options: WsFanoutOptions): WsFanout {
  const maxBytes = options.maxMessageBytes ?? 1024 * 1024;
  const bindings = new WeakMap<object, Binding>();
  const plans = new WeakMap<object, Plan | null>();
  // Event object → query key → its pieces. Subscribers of one topic receive the same event
  // object (the in-process bus clones once per publish; Redis parses once per message).
  const cache = new WeakMap<object, Map<string, Promise<Pieces>>>();

  function planOf(args: ExecutionArgs): Plan | null {
    const cached = plans.get(args.document);
    if (cached !== undefined) return cached;
    const plan = makePlan(getOperationAST(args.document, args.operationName), options.fields);
    plans.set(args.document, plan);
    return plan;
  }

  function piecesOf(event: object, args: ExecutionArgs, binding: Binding, plan: Plan): Promise<Pieces> {
    let byKey = cache.get(event);
    if (!byKey) cache.set(event, (byKey = new Map()));
    let pieces = byKey.get(binding.key);
    if (!pieces) {
      pieces = Promise.resolve(execute({ ...args, rootValue: event })).then((result) => serialize(options.formatResult(result), plan));
      byKey.set(binding.key, pieces);
    }
    return pieces;
  }

  return {
    bind(contextValue, socket, id, payload) {
      const key = `${payload.query}\u0000${payload.operationName ?? ''}\u0000${JSON.stringify(payload.variables ?? null)}`;
      bindings.set(contextValue, { socket, key, prefix: Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`) });
      return contextValue;
    },

    async subscribe(args) {
      const binding = typeof args.contextValue === 'object' && args.contextValue !== null ? bindings.get(args.contextValue) : undefined;
      const plan = binding ? planOf(args) : null;
      if (!binding || !plan) return subscribe(args);
      const source = await createSourceEventStream(args);
      if (!(Symbol.asyncIterator in source)) return source;
      return stream(source as AsyncGenerator<unknown>, (events) => send(binding, events, args, plan));
    },
  };

  /** Writes the first of `events` and as many after it as merge into one message; returns how many it sent. */
  async function send(binding: Binding, events: readonly unknown[], args: ExecutionArgs, plan: Plan): Promise<number> {
    const first = await piecesOf(events[0] as object, args, binding, plan);
    let parts: Buffer[];
    let used = 1;
    if (!first.merge || events.length === 1) {
      parts = [binding.prefix, first.whole, SUFFIX];
    } else {
      // The list items of a run of mergeable events, the other fields from the last of them.
      const items: Buffer[] = [];
      let bytes = 0;
      let last = first.merge;
      used = 0;
      for (const event of events) {
        const p = used === 0 ? first : await piecesOf(event as object, args, binding, plan);
        if (!p.merge || (used > 0 && bytes + p.merge.items.length > maxBytes)) break;
        if (p.merge.items.length > 0) {
          if (items.length > 0) items.push(COMMA);
          items.push(p.merge.items);
          bytes += p.merge.items.length;
        }
        last = p.merge;
        used++;
      }
      parts = [binding.prefix, last.head, OPEN, ...items, CLOSE, last.tail, SUFFIX];
    }
    const socket = binding.socket;
    if (socket.readyState !== socket.OPEN) return used;
    await new Promise<void>((resolve, reject) => socket.send(Buffer.concat(parts), { binary: false }, (error) => (error ? reject(error) : resolve())));
    return used;
  }
}

/**
 * The iterator graphql-ws gets: it yields nothing; a reader drains the source into `pending` as
 * fast as events come (so the source's own queue never grows), a writer sends them, coalesced
 * while the socket is busy. It ends once everything read is written, or on `return()`.
 */
function stream(source: AsyncGenerator<unknown>, write: (pending: readonly unknown[]) => Promise<number>): Subscription {
  let pending: unknown[] = [];
  let ended = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  void (async () => {
    try {
      for (;;) {
        const step = await source.next();
        if (step.done || stopped) break;
        pending.push(step.value);
        poke();
      }
    } catch (error) {
      failure = { error };
    }
    ended = true;
    poke();
  })();
  const written = (async () => {
    while (!stopped) {
      if (pending.length === 0) {
        if (ended) break;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const n = await write(pending);
      pending = pending.slice(n);
    }
  })();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stopped = true;
      pending = [];
      poke();
      await source.return(undefined);
    })());
  const done = { done: true, value: undefined } as const;
  const iterator: Subscription = {
    async next() {
      try {
        await written;
      } catch (error) {
        failure ??= { error };
      }
      await stop();
      if (failure) throw failure.error;
      return done;
    },
    async return() {
      await stop();
      return done;
    },
    async throw(error?: unknown) {
      await stop();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * The two graphql-ws `useServer` options this module provides, `context` (wrapping the server's
 * own) and `subscribe`, to spread into the options.
 */
export function wsFanoutOptions(options: WsFanoutOptions & { readonly context: (ctx: { readonly extra: { readonly socket: WebSocket } }) => object }) {
  const fanout = createWsFanout(options);
  return {
    context: (ctx: { readonly extra: { readonly socket: WebSocket } }, id: string, payload: SubscribePayload) => fanout.bind(options.context(ctx), ctx.extra.socket, id, payload),
    subscribe: (args: ExecutionArgs) => fanout.subscribe(args),
  };
}

/** Where the list sits in the result of an operation this module can merge, or null. */
function makePlan(operation: OperationDefinitionNode | null | undefined, fields: Readonly<Record<string, CoalescedField>>): Plan | null {
  if (!operation || operation.operation !== 'subscription' || operation.directives?.length) return null;
  const [root, ...more] = operation.selectionSet.selections;
  if (!root || more.length > 0 || root.kind !== 'Field' || root.directives?.length) return null;
  const field = fields[root.name.value];
  if (!field || !root.selectionSet) return null;
  // The list must be selected exactly once, directly (a fragment could select it again).
  const selections = root.selectionSet.selections;
  if (selections.some((s) => s.kind !== 'Field')) return null;
  const lists = (selections as FieldNode[]).filter((s) => s.name.value === field.list);
  if (lists.length !== 1 || lists[0]!.directives?.length) return null;
  return { rootKey: root.alias?.value ?? root.name.value, listKey: lists[0]!.alias?.value ?? field.list };
}

function serialize(result: ExecutionResult, plan: Plan): Pieces {
  const whole = Buffer.from(JSON.stringify(result));
  const value = (result.data as Record<string, unknown> | null | undefined)?.[plan.rootKey] as Record<string, unknown> | null | undefined;
  const list = value?.[plan.listKey];
  if (result.errors?.length || !Array.isArray(list)) return { whole, merge: null };
  const framed = JSON.stringify({ ...result, data: { ...result.data, [plan.rootKey]: { ...value, [plan.listKey]: SENTINEL } } });
  const at = framed.indexOf(SENTINEL_JSON);
  if (at === -1 || framed.indexOf(SENTINEL_JSON, at + 1) !== -1) return { whole, merge: null };
  return {
    whole,
    merge: { head: Buffer.from(framed.slice(0, at)), items: Buffer.from(JSON.stringify(list).slice(1, -1)), tail: Buffer.from(framed.slice(at + SENTINEL_JSON.length)) },
  };
}

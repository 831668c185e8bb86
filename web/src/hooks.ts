import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { describeError, type ShownError } from './api.js';
import { useSession } from './session.js';

export interface QueryState<R> {
  readonly data: R | undefined;
  readonly error: ShownError | undefined;
  readonly loading: boolean;
  reload(): void;
}

/** A query through the SDK, run again when its variables or the signed-in client change, or every `pollMs`. */
export function useQuery<R, V extends Record<string, unknown>>(
  document: TypedDocumentNode<R, V>,
  variables: V,
  options: { pollMs?: number; skip?: boolean } = {},
): QueryState<R> {
  const { client } = useSession();
  const [data, setData] = useState<R>();
  const [error, setError] = useState<ShownError>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(variables);
  const reload = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    if (options.skip) return;
    let live = true;
    setLoading(true);
    client.request(document, JSON.parse(key) as V).then(
      (result) => {
        if (!live) return;
        setData(result);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(describeError(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [client, document, key, tick, options.skip]);

  useEffect(() => {
    if (!options.pollMs || options.skip) return;
    const timer = setInterval(reload, options.pollMs);
    return () => clearInterval(timer);
  }, [options.pollMs, options.skip, reload]);

  return { data, error, loading, reload };
}

/**
 * A subscription through the SDK's graphql-ws client. `onEvent` is read through a ref, so a new
 * closure per render does not re-subscribe; a new client (a refreshed token) does, and `onOpen`
 * runs before each (re)subscription so a view can reload what it missed.
 */
export function useSubscription<R, V extends Record<string, unknown>>(
  document: TypedDocumentNode<R, V>,
  variables: V | null,
  onEvent: (event: R) => void,
): { error: ShownError | undefined; ended: boolean } {
  const { client } = useSession();
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const [error, setError] = useState<ShownError>();
  const [ended, setEnded] = useState(false);
  const key = variables === null ? null : JSON.stringify(variables);

  useEffect(() => {
    if (key === null) return;
    const iterator = client.subscribe(document, JSON.parse(key) as V);
    let live = true;
    setEnded(false);
    setError(undefined);
    void (async () => {
      try {
        for (;;) {
          const step = await iterator.next();
          if (!live) return;
          if (step.done) break;
          handler.current(step.value);
        }
        if (live) setEnded(true);
      } catch (e) {
        if (live) setError(describeError(e));
      }
    })();
    return () => {
      live = false;
      void iterator.return?.();
    };
  }, [client, document, key]);

  return { error, ended };
}

/** A state setter that applies at most once per animation frame (live events come in bursts). */
export function useFrameState<T>(initial: T): [T, (next: T) => void] {
  const [value, setValue] = useState(initial);
  const pending = useRef<{ value: T } | null>(null);
  const frame = useRef<number | null>(null);
  useEffect(() => () => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
  }, []);
  const set = useCallback((next: T) => {
    pending.current = { value: next };
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      if (pending.current) setValue(pending.current.value);
      pending.current = null;
    });
  }, []);
  return [value, set];
}

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { ArenaClient } from '../../src/sdk/index.js';
import { clientFor, loadSession, logout as endSession, refresh, saveSession, type Session } from './api.js';

interface SessionState {
  readonly session: Session;
  readonly client: ArenaClient;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

/** Renews the access token a minute before it expires; a refused refresh signs out. */
export function SessionProvider({ initial, onSignedOut, children }: { initial: Session; onSignedOut: () => void; children: ReactNode }) {
  const [session, setSession] = useState(initial);
  const client = useMemo(() => clientFor(session), [session]);
  const previous = useRef<ArenaClient | null>(null);

  useEffect(() => {
    // The old client's subscriptions move to the new one when the views re-render; close it after.
    const old = previous.current;
    previous.current = client;
    if (old && old !== client) setTimeout(() => void old.close(), 1000);
  }, [client]);

  useEffect(() => {
    const ms = new Date(session.accessTokenExpiresAt).getTime() - Date.now() - 60_000;
    const timer = setTimeout(
      () => {
        refresh(session).then(
          (next) => {
            saveSession(next);
            setSession(next);
          },
          () => {
            saveSession(null);
            onSignedOut();
          },
        );
      },
      Math.max(ms, 1000),
    );
    return () => clearTimeout(timer);
  }, [session, onSignedOut]);

  const signOut = useCallback(async () => {
    await endSession(session).catch(() => undefined);
    saveSession(null);
    await client.close();
    onSignedOut();
  }, [session, client, onSignedOut]);

  const value = useMemo(() => ({ session, client, signOut }), [session, client, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside SessionProvider');
  return state;
}

export { loadSession };

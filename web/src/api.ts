import {
  ArenaGraphQLError,
  createArenaClient,
  LoginDocument,
  LogoutDocument,
  RedeemSignInLinkDocument,
  RefreshTokenDocument,
  type ArenaClient,
  type AuthFieldsFragment,
} from '../../src/sdk/index.js';

/** A signed-in session as the API hands it out; kept in this tab's sessionStorage only. */
export type Session = AuthFieldsFragment;

const KEY = 'content-arena.dashboard.session';
const origin = () => window.location.origin;

export function loadSession(): Session | null {
  try {
    const session = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    if (!session || new Date(session.refreshTokenExpiresAt).getTime() <= Date.now()) return null;
    return session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

/** For sign-in and refresh, which carry no bearer token. */
const anonymous = (): ArenaClient => createArenaClient({ url: origin() });

/**
 * One client per access token: the server closes a WebSocket when the token it was opened with
 * expires, so a refreshed token gets a new client (and the views' subscriptions re-open on it).
 */
export function clientFor(session: Session): ArenaClient {
  return createArenaClient({ url: origin(), token: session.accessToken });
}

export async function login(email: string, password: string): Promise<Session> {
  const client = anonymous();
  try {
    return (await client.request(LoginDocument, { input: { email, password } })).login;
  } finally {
    void client.close();
  }
}

export async function redeem(token: string): Promise<Session> {
  const client = anonymous();
  try {
    return (await client.request(RedeemSignInLinkDocument, { input: { token } })).redeemSignInLink;
  } finally {
    void client.close();
  }
}

export async function refresh(session: Session): Promise<Session> {
  const client = anonymous();
  try {
    return (await client.request(RefreshTokenDocument, { input: { refreshToken: session.refreshToken } })).refreshToken;
  } finally {
    void client.close();
  }
}

export async function logout(session: Session): Promise<void> {
  const client = clientFor(session);
  try {
    await client.request(LogoutDocument, { input: { refreshToken: session.refreshToken } });
  } finally {
    void client.close();
  }
}

/** The one-time link the first start prints: `/#signin=<token>`. */
export function takeSignInToken(): string | null {
  const match = /[#&]signin=([^&]+)/.exec(window.location.hash);
  if (!match) return null;
  history.replaceState(null, '', `${window.location.pathname}#/battles`);
  return decodeURIComponent(match[1]!);
}

export interface ShownError {
  readonly code: string;
  readonly message: string;
}

/** An API error as the views show it: its `extensions.code` and message. */
export function describeError(error: unknown): ShownError {
  if (error instanceof ArenaGraphQLError) return { code: error.code ?? 'ERROR', message: error.message };
  if (error instanceof TypeError) return { code: 'NETWORK_ERROR', message: `The server did not answer (${error.message}).` };
  if (error instanceof CloseEvent || (error && typeof error === 'object' && 'code' in error && 'reason' in error)) {
    const e = error as { code: number; reason: string };
    return { code: `WEBSOCKET_${e.code}`, message: e.reason || 'The live connection closed.' };
  }
  return { code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
}

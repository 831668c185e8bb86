import type { EntityManager } from '@mikro-orm/postgresql';
import { LRUCache } from 'lru-cache';
import { weakerRole, type Actor, type Role } from '../../domain/index.js';
import type { Database } from '../../db/database.js';
import type { EventBus } from '../../pubsub/index.js';
import { API_KEY_PREFIX, sha256 } from './credentials.js';
import { unauthenticated, type TokenSigner } from './token-signer.js';

/** Who is asking: a signed-in user, or a service client with an API key acting as its user. */
export interface Principal extends Actor {
  readonly kind: 'user' | 'api-key';
  readonly email: string;
  readonly sessionId: string | null;
  readonly apiKeyId: string | null;
  /** When the credential stops working (ms since the epoch); null for an API key without expiry. */
  readonly expiresAt: number | null;
}

/** Published on AUTH_TOPIC when a user, session or key changes, so every process drops what it cached. */
export interface AuthChange {
  readonly userId?: string;
  readonly sessionId?: string;
  readonly apiKeyId?: string;
  /** The user was disabled (or their sessions revoked): live connections close. */
  readonly ended: boolean;
}

export const AUTH_TOPIC = 'auth.changes';

interface Holder {
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
  readonly disabled: boolean;
  /** The session was revoked, or the key revoked or past its expiry. */
  readonly revoked: boolean;
  readonly keyRole?: Role;
  readonly keyId?: string;
  readonly keyExpiresAt?: number | null;
}

/** How long a looked-up session or key is trusted without asking the database (events usually clear it first). */
const STATE_TTL_MS = 5_000;

/**
 * Turns credentials into principals, and answers "is this principal still allowed in?" for
 * every subscription event. The user's current role and disabled flag come from the database
 * (cached for seconds, and dropped at once on an AuthChange event), not from the token, so a
 * demotion or a disabled account takes effect immediately rather than when the token expires.
 */
export class PrincipalDirectory {
  private readonly sessions = new LRUCache<string, Holder>({ max: 50_000, ttl: STATE_TTL_MS });
  private readonly keys = new LRUCache<string, Holder>({ max: 50_000, ttl: STATE_TTL_MS });
  /**
   * Lookups in flight, by what they look up: when a cached session expires under a thousand live
   * subscriptions of one user, their next events share one query instead of queueing a thousand.
   */
  private readonly loading = new Map<string, Promise<Holder | undefined>>();

  private once(key: string, load: () => Promise<Holder | undefined>): Promise<Holder | undefined> {
    let pending = this.loading.get(key);
    if (!pending) {
      pending = load().finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }
  private readonly listeners = new Set<(change: AuthChange) => void>();
  private stopListening: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly events: EventBus,
    readonly signer: TokenSigner,
    private readonly now: () => Date,
  ) {}

  /** `Authorization: Bearer <access token | API key>`; null without one. */
  async authenticate(authorization: string | undefined): Promise<Principal | null> {
    if (authorization === undefined || authorization === '') return null;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthenticated('The Authorization header must be "Bearer <access token or API key>".', 'MALFORMED');
    return this.fromCredential(match[1]!);
  }

  /** An access token (JWT) or an API key. */
  async fromCredential(credential: string): Promise<Principal> {
    if (credential.startsWith(API_KEY_PREFIX)) return this.fromApiKey(credential);
    const claims = await this.signer.verify(credential);
    const holder = await this.session(claims.sid);
    if (!holder || holder.revoked || holder.userId !== claims.sub) throw unauthenticated('This session has ended: sign in again.', 'SESSION_ENDED');
    if (holder.disabled) throw unauthenticated('This account is disabled.', 'DISABLED');
    return { kind: 'user', id: holder.userId, email: holder.email, role: holder.role, sessionId: claims.sid, apiKeyId: null, expiresAt: claims.exp * 1000 };
  }

  private async fromApiKey(key: string): Promise<Principal> {
    const holder = await this.apiKey(sha256(key));
    if (!holder || holder.revoked) throw unauthenticated('This API key is unknown, revoked or expired.', 'KEY_INVALID');
    if (holder.disabled) throw unauthenticated('The account this API key belongs to is disabled.', 'DISABLED');
    return {
      kind: 'api-key',
      id: holder.userId,
      email: holder.email,
      role: weakerRole(holder.keyRole!, holder.role),
      sessionId: null,
      apiKeyId: holder.keyId!,
      expiresAt: holder.keyExpiresAt ?? null,
    };
  }

  /**
   * A user as the platform acts for them later (a battle's retrain runs with its starter's rights
   * as they are now): null when the user is gone or disabled. No session or key stands behind it.
   */
  async forUser(userId: string): Promise<Principal | null> {
    const rows = await this.connection().execute<{ id: string; email: string; role: Role; disabled: boolean }[]>(
      'select id, email, role, disabled from app_user where id = ?',
      [userId],
    );
    const u = rows[0];
    if (!u || u.disabled) return null;
    return { kind: 'user', id: u.id, email: u.email, role: u.role, sessionId: null, apiKeyId: null, expiresAt: null };
  }

  /** Whether a principal authenticated earlier may still act: not expired, not disabled, not revoked, same role. */
  async isActive(principal: Principal): Promise<boolean> {
    if (principal.expiresAt !== null && principal.expiresAt <= this.now().getTime()) return false;
    const holder = principal.sessionId ? await this.session(principal.sessionId) : await this.apiKeyById(principal.apiKeyId!);
    return stillAllows(holder, principal);
  }

  /**
   * isActive from the cache alone, for checks on every event of a live subscription: the answer
   * when the principal's session is cached (it is, once it has signed in here), else undefined.
   */
  isActiveCached(principal: Principal): boolean | undefined {
    if (principal.expiresAt !== null && principal.expiresAt <= this.now().getTime()) return false;
    const holder = principal.sessionId ? this.sessions.get(principal.sessionId) : undefined;
    return holder ? stillAllows(holder, principal) : undefined;
  }

  private async session(sessionId: string): Promise<Holder | undefined> {
    const cached = this.sessions.get(sessionId);
    if (cached) return cached;
    return this.once(`s:${sessionId}`, () => this.loadSession(sessionId));
  }

  private async loadSession(sessionId: string): Promise<Holder | undefined> {
    const rows = await this.connection().execute<{ user_id: string; email: string; role: Role; disabled: boolean; revoked_at: Date | null }[]>(
      `select u.id as user_id, u.email, u.role, u.disabled, s.revoked_at
         from auth_session s join app_user u on u.id = s.user_id where s.id = ?`,
      [sessionId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const holder: Holder = { userId: row.user_id, email: row.email, role: row.role, disabled: row.disabled, revoked: row.revoked_at !== null };
    this.sessions.set(sessionId, holder);
    return holder;
  }

  private async apiKey(keyHash: string): Promise<Holder | undefined> {
    const cached = this.keys.get(keyHash);
    if (cached && !this.keyExpired(cached)) return cached;
    return this.once(`kh:${keyHash}`, () => this.loadKey('k.key_hash = ?', keyHash, keyHash));
  }

  private async apiKeyById(id: string): Promise<Holder | undefined> {
    for (const holder of this.keys.values()) if (holder.keyId === id && !this.keyExpired(holder)) return holder;
    return this.once(`k:${id}`, () => this.loadKey('k.id = ?', id, undefined));
  }

  private keyExpired(holder: Holder): boolean {
    return holder.keyExpiresAt != null && holder.keyExpiresAt <= this.now().getTime();
  }

  private async loadKey(where: string, value: string, cacheKey: string | undefined): Promise<Holder | undefined> {
    const rows = await this.connection().execute<
      { id: string; key_hash: string; key_role: Role; revoked_at: Date | null; expires_at: Date | null; user_id: string; email: string; role: Role; disabled: boolean }[]
    >(
      `select k.id, k.key_hash, k.role as key_role, k.revoked_at, k.expires_at, u.id as user_id, u.email, u.role, u.disabled
         from api_key k join app_user u on u.id = k.user_id where ${where}`,
      [value],
    );
    const row = rows[0];
    if (!row) return undefined;
    const keyExpiresAt = row.expires_at ? new Date(row.expires_at).getTime() : null;
    const holder: Holder = {
      userId: row.user_id,
      email: row.email,
      role: row.role,
      disabled: row.disabled,
      revoked: row.revoked_at !== null || (keyExpiresAt !== null && keyExpiresAt <= this.now().getTime()),
      keyRole: row.key_role,
      keyId: row.id,
      keyExpiresAt,
    };
    this.keys.set(cacheKey ?? row.key_hash, holder);
    return holder;
  }

  private connection() {
    return (this.db.fork() as EntityManager).getConnection();
  }

  /** Tells every process (this one included) to forget what it cached about a user, session or key. */
  announce(change: AuthChange): Promise<void> {
    return this.events.publish(AUTH_TOPIC, change);
  }

  /** Called for every AuthChange, after the caches are cleared (the server closes sockets with it). */
  onChange(listener: (change: AuthChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    const changes = await this.events.subscribe<AuthChange>(AUTH_TOPIC);
    this.stopListening = async () => {
      await changes.return?.();
    };
    void (async () => {
      for await (const change of { [Symbol.asyncIterator]: () => changes }) this.forget(change);
    })();
  }

  private forget(change: AuthChange): void {
    if (change.sessionId) this.sessions.delete(change.sessionId);
    for (const cache of [this.sessions, this.keys]) {
      for (const [key, holder] of cache.entries()) {
        if ((change.userId && holder.userId === change.userId) || (change.apiKeyId && holder.keyId === change.apiKeyId)) cache.delete(key);
      }
    }
    for (const listener of this.listeners) listener(change);
  }

  async close(): Promise<void> {
    await this.stopListening?.();
  }
}

/** Whether the session or key behind a principal still grants what the principal was given. */
function stillAllows(holder: Holder | undefined, principal: Principal): boolean {
  if (!holder || holder.revoked || holder.disabled) return false;
  const role = holder.keyRole ? weakerRole(holder.keyRole, holder.role) : holder.role;
  return role === principal.role;
}

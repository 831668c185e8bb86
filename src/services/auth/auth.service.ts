import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { checkEmail, normalizeEmail } from '../../domain/index.js';
import { AppSecret, AuthSession, RefreshToken, SignInLink, User } from '../../entities/index.js';

import type { ServiceDeps } from '../context.js';
import { hashPassword, randomSecret, REFRESH_TOKEN_PREFIX, sha256, verifyPassword } from './credentials.js';
import type { Principal, PrincipalDirectory } from './principals.js';
import type { RateLimits } from './rate-limits.js';
import { unauthenticated } from './token-signer.js';
import { toUserView, type UserView } from './user.service.js';

export interface SessionTokens {
  readonly accessToken: string;
  readonly accessTokenExpiresAt: string;
  readonly refreshToken: string;
  readonly refreshTokenExpiresAt: string;
  readonly user: UserView;
}

export interface LogoutInput {
  /** Ends the session this refresh token belongs to (works without an access token). */
  readonly refreshToken?: string | null;
  /** Ends every session of the signed-in user. */
  readonly everywhere?: boolean | null;
}

/** The JWT signing secret: ARENA_JWT_SECRET, or one made once and kept in the database for every process. */
export async function loadSigningKey(deps: Pick<ServiceDeps, 'config' | 'db'>): Promise<Uint8Array> {
  const configured = deps.config.security.jwtSecret;
  if (configured) return new TextEncoder().encode(configured);
  const em = deps.db.fork();
  await em
    .getConnection()
    .execute(`insert into app_secret (name, value, created_at) values ('jwt', ?, now()) on conflict (name) do nothing`, [randomBytes(48).toString('base64url')]);
  const row = await em.findOneOrFail(AppSecret, { name: 'jwt' });
  return new TextEncoder().encode(row.value);
}

const WRONG_CREDENTIALS = 'Wrong email or password.';

/** Sign-in, token refresh with rotation and reuse detection, sign-out, one-time sign-in links. */
export class AuthService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly principals: PrincipalDirectory,
    private readonly limits: RateLimits,
  ) {}

  async login(em: EntityManager, emailInput: string, password: string, ip: string | null): Promise<SessionTokens> {
    const email = normalizeEmail(emailInput);
    await this.limits.loginAttempt(email, ip);
    const user = checkEmail(email) ? null : await em.findOne(User, { email });
    const ok = await verifyPassword(user?.passwordHash ?? null, password);
    if (!user || !ok) throw unauthenticated(WRONG_CREDENTIALS, 'WRONG_CREDENTIALS');
    if (user.disabled) throw unauthenticated('This account is disabled; ask an admin.', 'DISABLED');
    await this.limits.loginSucceeded(email);
    return this.openSession(em, user);
  }

  async refresh(em: EntityManager, token: string): Promise<SessionTokens> {
    const row = await em.findOne(RefreshToken, { tokenHash: sha256(token) }, { populate: ['session', 'session.user'] });
    if (!row) throw unauthenticated('Unknown refresh token: sign in again.', 'REFRESH_INVALID');
    const session = row.session;
    if (session.revokedAt) throw unauthenticated('This session has ended: sign in again.', 'SESSION_ENDED');
    const now = this.deps.now();
    // Claim the token atomically: of two uses, however close together, exactly one wins.
    const claimed = await em.nativeUpdate(RefreshToken, { id: row.id, usedAt: null }, { usedAt: now });
    if (claimed === 0) {
      await this.revokeSessions(em, { id: session.id }, 'reuse');
      await this.principals.announce({ sessionId: session.id, userId: session.user.id, ended: true });
      throw unauthenticated(
        'This refresh token was already used, so it may have been stolen: the whole session is now signed out. Sign in again.',
        'REFRESH_REUSED',
      );
    }
    if (row.expiresAt <= now) throw unauthenticated('The refresh token has expired: sign in again.', 'REFRESH_EXPIRED');
    if (session.user.disabled) throw unauthenticated('This account is disabled; ask an admin.', 'DISABLED');
    return this.issue(em, session, session.user);
  }

  async logout(em: EntityManager, actor: Principal | null, input: LogoutInput): Promise<number> {
    let ended = 0;
    if (input.refreshToken) {
      const row = await em.findOne(RefreshToken, { tokenHash: sha256(input.refreshToken) }, { populate: ['session'] });
      if (!row) throw unauthenticated('Unknown refresh token.', 'REFRESH_INVALID');
      ended += await this.revokeSessions(em, { id: row.session.id }, 'logout');
      await this.principals.announce({ sessionId: row.session.id, ended: true });
    }
    if (input.everywhere) {
      if (!actor) throw unauthenticated('Sign in to sign out everywhere.', 'NO_CREDENTIALS');
      ended += await this.revokeSessions(em, { user: actor.id }, 'logout');
      await this.principals.announce({ userId: actor.id, ended: true });
    } else if (actor?.sessionId && !input.refreshToken) {
      ended += await this.revokeSessions(em, { id: actor.sessionId }, 'logout');
      await this.principals.announce({ sessionId: actor.sessionId, ended: true });
    }
    if (ended === 0 && !actor && !input.refreshToken) throw unauthenticated('Nothing to sign out of: send an access token or a refresh token.', 'NO_CREDENTIALS');
    return ended;
  }

  /** Revokes open sessions matching `where`; returns how many. */
  async revokeSessions(em: EntityManager, where: { id: string } | { user: string }, reason: string): Promise<number> {
    return em.nativeUpdate(AuthSession, { ...where, revokedAt: null }, { revokedAt: this.deps.now(), revokedReason: reason });
  }

  /** A one-time link that signs its holder in as this user (printed at first start; `arena users link`). */
  async createSignInLink(em: EntityManager, userId: string): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.deps.now().getTime() + this.deps.config.security.signInLinkTtlS * 1000);
    em.create(SignInLink, { user: userId, tokenHash: sha256(token), expiresAt });
    await em.flush();
    return { token, expiresAt };
  }

  async redeemSignInLink(em: EntityManager, token: string): Promise<SessionTokens> {
    const now = this.deps.now();
    const claimed = await em.getConnection().execute<{ user_id: string }[]>(
      `update sign_in_link set used_at = ? where token_hash = ? and used_at is null and expires_at > ? returning user_id`,
      [now, sha256(token), now],
    );
    if (claimed.length === 0) throw unauthenticated('This sign-in link is unknown, used or expired. Ask an admin for a new one (`arena users link`).', 'LINK_INVALID');
    const user = await em.findOneOrFail(User, { id: claimed[0]!.user_id });
    if (user.disabled) throw unauthenticated('This account is disabled; ask an admin.', 'DISABLED');
    return this.openSession(em, user);
  }

  /**
   * First contact: with no users at all, makes an admin (its password random and never shown)
   * and a one-time sign-in link. Null when users exist (or another process just made the admin).
   */
  async ensureFirstAdmin(em: EntityManager): Promise<{ email: string; token: string; expiresAt: Date } | null> {
    if ((await em.count(User, {})) > 0) return null;
    const email = this.deps.config.security.adminEmail;
    const inserted = await em.getConnection().execute<{ id: string }[]>(
      `insert into app_user (id, email, password_hash, role, disabled, created_at, updated_at)
       select gen_random_uuid(), ?, ?, 'admin', false, now(), now() where not exists (select 1 from app_user)
       on conflict (email) do nothing returning id`,
      [email, await hashPassword(randomBytes(32).toString('base64url'))],
    );
    if (inserted.length === 0) return null;
    const link = await this.createSignInLink(em, inserted[0]!.id);
    return { email, ...link };
  }

  /** A fresh session for a user who just proved who they are. */
  async openSession(em: EntityManager, user: User): Promise<SessionTokens> {
    const session = em.create(AuthSession, { user, createdAt: this.deps.now() });
    return this.issue(em, session, user);
  }

  private async issue(em: EntityManager, session: AuthSession, user: User): Promise<SessionTokens> {
    const refreshToken = randomSecret(REFRESH_TOKEN_PREFIX);
    const refreshExpiresAt = new Date(this.deps.now().getTime() + this.deps.config.security.refreshTokenTtlS * 1000);
    em.create(RefreshToken, { session, tokenHash: sha256(refreshToken), expiresAt: refreshExpiresAt, createdAt: this.deps.now() });
    await em.flush();
    const access = await this.principals.signer.sign(user.id, session.id);
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken,
      refreshTokenExpiresAt: refreshExpiresAt.toISOString(),
      user: toUserView(user),
    };
  }
}


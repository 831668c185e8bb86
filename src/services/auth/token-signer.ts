import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { SecurityConfig } from '../../config/config.js';
import { AppError } from '../../errors.js';

export interface AccessClaims {
  /** The user id. */
  readonly sub: string;
  /** The session (refresh-token family) the token belongs to. */
  readonly sid: string;
  /** Seconds since the epoch. */
  readonly exp: number;
}

export const unauthenticated = (message: string, reason: string) => new AppError('UNAUTHENTICATED', message, { reason });

/**
 * HS256 access tokens with jose. Verification pins the algorithm (so `alg: none` and tokens
 * signed for another key type are refused), and requires `exp`, `iat`, `sub`, `sid`, the
 * issuer and the audience. A verified token is remembered until it expires, so a client
 * sending the same token again costs a map lookup, not an HMAC (see bench/).
 */
export class TokenSigner {
  private readonly verified = new LRUCache<string, AccessClaims>({ max: 10_000 });

  private key: Promise<Uint8Array> | undefined;

  constructor(
    /** The HS256 secret, fetched on first use (configured, or kept in the database). */
    private readonly loadKey: () => Promise<Uint8Array>,
    private readonly config: Pick<SecurityConfig, 'jwtIssuer' | 'jwtAudience' | 'accessTokenTtlS'>,
    private readonly now: () => Date,
  ) {}

  async sign(userId: string, sessionId: string): Promise<{ token: string; expiresAt: Date }> {
    const iat = Math.floor(this.now().getTime() / 1000);
    const exp = iat + this.config.accessTokenTtlS;
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(this.config.jwtIssuer)
      .setAudience(this.config.jwtAudience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(await this.signingKey());
    return { token, expiresAt: new Date(exp * 1000) };
  }

  private signingKey(): Promise<Uint8Array> {
    this.key ??= this.loadKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }

  /** The token's claims, or UNAUTHENTICATED saying what is wrong with it. */
  async verify(token: string): Promise<AccessClaims> {
    const nowS = this.now().getTime() / 1000;
    const known = this.verified.get(token);
    if (known) {
      if (known.exp > nowS) return known;
      this.verified.delete(token);
      throw expired();
    }
    try {
      const { payload } = await jwtVerify(token, await this.signingKey(), {
        algorithms: ['HS256'],
        issuer: this.config.jwtIssuer,
        audience: this.config.jwtAudience,
        requiredClaims: ['exp', 'iat', 'sub', 'sid'],
        currentDate: this.now(),
        clockTolerance: 0,
      });
      if (typeof payload.sid !== 'string' || typeof payload.sub !== 'string') throw new joseErrors.JWTClaimValidationFailed('sid', payload);
      const claims: AccessClaims = { sub: payload.sub, sid: payload.sid, exp: payload.exp! };
      this.verified.set(token, claims, { ttl: Math.max(1, Math.ceil((claims.exp - nowS) * 1000)) });
      return claims;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw expired();
      if (error instanceof joseErrors.JOSEError) {
        throw unauthenticated(`The access token is not valid (${error.code}): sign in again with the login mutation.`, 'TOKEN_INVALID');
      }
      throw error;
    }
  }
}

const expired = () => unauthenticated('The access token has expired: get a new one with refreshToken, or sign in again.', 'TOKEN_EXPIRED');

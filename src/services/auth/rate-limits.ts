import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { SecurityConfig } from '../../config/config.js';
import { AppError } from '../../errors.js';

export const rateLimited = (what: string, msBeforeNext: number) => {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError('RATE_LIMITED', `Too many ${what}. Try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });
};

/**
 * Per-user and per-IP request budgets and the sign-in brute-force guard, with
 * rate-limiter-flexible: counters in Redis when it is configured (so every API process shares
 * them), in this process otherwise. If Redis fails, an in-memory limiter stands in rather than
 * letting everyone through or no one.
 */
export class RateLimits {
  private readonly perUser: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  private readonly loginPerAccount: RateLimiterAbstract;
  private readonly loginPerIp: RateLimiterAbstract;

  constructor(config: SecurityConfig, redis: Redis | undefined, redisPrefix: string) {
    const make = (name: string, points: number, duration: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix: name, points, duration });
      if (!redis) return memory;
      return new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${redisPrefix}:rate:${name}`,
        points,
        duration,
        // Once a key is over its budget, refuse it here without asking Redis until the window ends.
        inMemoryBlockOnConsumed: points,
        insuranceLimiter: memory,
      });
    };
    this.perUser = make('user', config.rateLimitUserPerMinute, 60);
    this.perIp = make('ip', config.rateLimitIpPerMinute, 60);
    this.loginPerAccount = make('login-account', config.loginMaxFailures, config.loginWindowS);
    // An IP may try several accounts (an office behind one address); still bounded.
    this.loginPerIp = make('login-ip', config.loginMaxFailures * 5, config.loginWindowS);
  }

  /** One operation (an HTTP request or a WebSocket subscribe). Throws RATE_LIMITED with retryAfterSeconds. */
  async request(userId: string | null, ip: string | null): Promise<void> {
    await Promise.all([ip ? consume(this.perIp, ip, 'requests from this address') : undefined, userId ? consume(this.perUser, userId, 'requests') : undefined]);
  }

  /**
   * Counts a sign-in attempt before the password is checked, so attempts sent together (aliases
   * in one request, parallel requests) are all counted; a success forgets the account's failures.
   */
  async loginAttempt(account: string, ip: string | null): Promise<void> {
    await consume(this.loginPerAccount, account, 'failed sign-ins for this account');
    if (ip) await consume(this.loginPerIp, ip, 'failed sign-ins from this address');
  }

  async loginSucceeded(account: string): Promise<void> {
    await this.loginPerAccount.delete(account).catch(() => undefined);
  }
}

async function consume(limiter: RateLimiterAbstract, key: string, what: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw rateLimited(what, rejection.msBeforeNext);
    throw rejection;
  }
}

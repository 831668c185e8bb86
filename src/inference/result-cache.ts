import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.js';

/**
 * Classification results by `<model version id>:<sha256 of the text>`. A cache, never a source of
 * truth: a failing cache is a miss, not a failed request.
 */
export interface ResultCache {
  getMany(keys: readonly string[]): Promise<(Float32Array | undefined)[]>;
  setMany(entries: readonly (readonly [string, Float32Array])[]): Promise<void>;
}

export class NoResultCache implements ResultCache {
  async getMany(keys: readonly string[]): Promise<undefined[]> {
    return keys.map(() => undefined);
  }

  async setMany(): Promise<void> {}
}

/** In-process LRU with a TTL: the embedded default. */
export class LruResultCache implements ResultCache {
  private readonly lru: LRUCache<string, Float32Array>;

  constructor(maxEntries: number, ttlMs: number) {
    this.lru = new LRUCache({ max: maxEntries, ttl: ttlMs, ttlAutopurge: false });
  }

  async getMany(keys: readonly string[]): Promise<(Float32Array | undefined)[]> {
    return keys.map((k) => this.lru.get(k));
  }

  async setMany(entries: readonly (readonly [string, Float32Array])[]): Promise<void> {
    for (const [k, v] of entries) this.lru.set(k, v);
  }
}

const toBuffer = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Shared by every process of a deployment: scores stored as little-endian float32 bytes with a TTL. */
export class RedisResultCache implements ResultCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  async getMany(keys: readonly string[]): Promise<(Float32Array | undefined)[]> {
    if (keys.length === 0) return [];
    try {
      const values = await this.redis.mgetBuffer(...keys.map((k) => this.prefix + k));
      return values.map((v) => (v && v.byteLength % 4 === 0 ? new Float32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) : undefined));
    } catch (err) {
      this.log.warn({ err }, 'result cache read failed; classifying without it');
      return keys.map(() => undefined);
    }
  }

  async setMany(entries: readonly (readonly [string, Float32Array])[]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [k, v] of entries) pipeline.set(this.prefix + k, toBuffer(v), 'PX', this.ttlMs);
    try {
      await pipeline.exec();
    } catch (err) {
      this.log.warn({ err }, 'result cache write failed');
    }
  }
}

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, modeOf } from '../../src/config/index.js';

describe('loadConfig', () => {
  it('gives the documented defaults and freezes the result', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      dataDir: path.resolve('/srv/app', '.arena'),
      databaseUrl: undefined,
      redisUrl: undefined,
      logLevel: 'info',
      nodeEnv: 'development',
      bodyLimitBytes: 1024 * 1024,
      introspection: true,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(modeOf(config)).toBe('embedded');
  });

  it('reads the variables it documents', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u@db:5432/arena',
      REDIS_URL: 'redis://cache:6379',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ARENA_BODY_LIMIT_BYTES: '2048',
    });
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', logLevel: 'warn', bodyLimitBytes: 2048, introspection: false });
    expect(modeOf(config)).toBe('scaled');
  });

  it('reads the inference limits, and refuses an inspection memory limit node cannot start in', () => {
    const config = loadConfig({ ARENA_CLASSIFY_MAX_TEXTS: '10', ARENA_MICROBATCH_WINDOW_MS: '0', ARENA_INFERENCE_CACHE_TTL_MS: '0' });
    expect(config.inference).toMatchObject({ maxTexts: 10, microBatchWindowMs: 0, cacheTtlMs: 0, jobMaxTexts: 100_000, modelCacheSize: 4 });
    expect(Object.isFrozen(config.inference)).toBe(true);
    expect(loadConfig({ ARENA_MICROBATCH_WINDOW_MS: 'off' }).inference.microBatchWindowMs).toBeNull();
    expect(loadConfig({}).inference.microBatchWindowMs).toBe(0);
    expect(() => loadConfig({ ARENA_MICROBATCH_WINDOW_MS: 'soon' })).toThrow(/ARENA_MICROBATCH_WINDOW_MS/);
    expect(() => loadConfig({ ARENA_MODEL_INSPECT_MEMORY_BYTES: '1000000' })).toThrow(/ARENA_MODEL_INSPECT_MEMORY_BYTES="1000000": must be at least 268435456/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 4000, databaseUrl: undefined });
  });

  it('lists every bad variable with what it allows', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', NODE_ENV: 'prod', ARENA_BODY_LIMIT_BYTES: '-1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.find((p) => p.startsWith('PORT="eighty"'))).toMatch(/number/);
    expect(problems.find((p) => p.startsWith('LOG_LEVEL="loud"'))).toMatch(/"fatal"\|"error"\|"warn"\|"info"/);
    expect(problems.find((p) => p.startsWith('DATABASE_URL="mysql://x"'))).toMatch(/postgres:\/\/ or postgresql:\/\//);
    expect(problems.find((p) => p.startsWith('NODE_ENV="prod"'))).toMatch(/production/);
    expect(problems.find((p) => p.startsWith('ARENA_BODY_LIMIT_BYTES="-1"'))).toMatch(/>0|positive|too small/i);
  });

  it.each(['65536', '1.5', 'abc'])('rejects PORT=%s', (port) => {
    expect(() => loadConfig({ PORT: port })).toThrow(/PORT=/);
  });
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Libraries load graphql's CommonJS build; tests must get the same realm, not the .mjs one.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores and an embedded Postgres per test file: more in parallel only thrashes.
    maxWorkers: 2,
    minWorkers: 1,
  },
});

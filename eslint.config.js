// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import patterns a folder may not use: the layer rules of ARCHITECTURE.md, enforced. */
const forbid = (...groups) => ({
  'no-restricted-imports': ['error', { patterns: groups.map(([group, message]) => ({ group, message })) }],
});

export default tseslint.config(
  { ignores: ['dist/', 'web/dist/', 'node_modules/', 'src/sdk/generated/', 'coverage/', '.arena/', '.bench/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: forbid(
      [['@mikro-orm/*', 'pg', 'graphql', 'graphql-*', 'type-graphql', '@apollo/*', 'bullmq', 'ioredis', 'express'], 'The domain is pure: no ORM, GraphQL, queue or HTTP.'],
      [['**/entities/**', '**/resolvers/**', '**/services/**', '**/workers/**', '**/server/**', '**/queue/**', '**/pubsub/**', '**/db/**'], 'The domain imports nothing from outer layers.'],
    ),
  },
  {
    files: ['src/runners/**/*.ts'],
    rules: forbid(
      [['@mikro-orm/*', 'pg', 'graphql', 'graphql-*', 'type-graphql', '@apollo/*', 'bullmq', 'ioredis', 'express'], 'Runners are standalone processes: domain code and Node built-ins only.'],
      [['**/entities/**', '**/resolvers/**', '**/services/**', '**/workers/**', '**/server/**', '**/queue/**', '**/pubsub/**', '**/db/**', '**/config/**'], 'Runners import the domain only.'],
    ),
  },
  {
    files: ['src/workers/**/*.ts'],
    rules: forbid(
      [['**/resolvers/**', '**/server/**', '**/graphql/**', '@apollo/*', 'type-graphql'], 'Workers call services, never resolvers or the API.'],
    ),
  },
  {
    files: ['src/services/**/*.ts'],
    rules: forbid([['**/resolvers/**', '**/server/**', '**/graphql/**', '@apollo/*', 'type-graphql'], 'Services know nothing of GraphQL.']),
  },
  {
    files: ['src/entities/**/*.ts'],
    rules: forbid([['**/services/**', '**/resolvers/**', '**/workers/**', '**/server/**', 'type-graphql', '@apollo/*'], 'Entities are persistence only.']),
  },
  {
    files: ['src/resolvers/**/*.ts'],
    rules: forbid([['**/entities/**', '@mikro-orm/*', 'bullmq', 'ioredis'], 'Resolvers call services; persistence and queues stay behind them.']),
  },
  {
    // The dashboard is a browser app and the SDK's first user: it reaches the platform through
    // src/sdk only (typed documents over HTTP and graphql-ws), never the server's code.
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '(^|/)src/(?!sdk/)', message: 'The dashboard imports only the SDK (src/sdk).' },
            { regex: '^node:', message: 'The dashboard runs in a browser: no Node built-ins.' },
            { group: ['@mikro-orm/*', 'pg', 'type-graphql', '@apollo/*', 'bullmq', 'ioredis', 'express', 'ws'], message: 'The dashboard runs in a browser and talks to the API only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/sdk/**/*.ts'],
    rules: forbid([['../*', '!./*'], 'The SDK is a client: it imports nothing of the server.']),
  },
);

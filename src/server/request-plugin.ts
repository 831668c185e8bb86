import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GraphQLContext } from '../graphql/context.js';
import { isUnexpected } from '../graphql/errors.js';
import type { ServerMetrics } from './metrics.js';

/**
 * Everything the platform does per HTTP operation, in one plugin: each plugin's hooks cost a
 * little on every request, and this is the hot path (bench/trivial-query.ts).
 */
export function requestPlugin(metrics: Pick<ServerMetrics, 'observeOperation'>): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      const start = process.hrtime.bigint();
      return {
        async didResolveOperation({ operation }) {
          // Apollo would run a subscription sent over HTTP as a query and fail on its null root.
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql, not over HTTP.', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
        },
        async didEncounterErrors({ errors, contextValue }) {
          for (const e of errors) if (isUnexpected(e)) contextValue.log.error({ err: e.originalError ?? e }, 'unexpected error');
        },
        async willSendResponse({ operationName, operation, errors }) {
          const outcome = errors && errors.length > 0 ? 'error' : 'ok';
          metrics.observeOperation(operationName, operation?.operation ?? 'invalid', 'http', outcome, Number(process.hrtime.bigint() - start) / 1e9);
        },
      };
    },
  };
}

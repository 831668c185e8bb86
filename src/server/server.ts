import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler } from 'express';
import { GraphQLError, getOperationAST, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import { WebSocketServer } from 'ws';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import { formatError, isUnexpected } from '../graphql/errors.js';
import { getSchema } from '../graphql/schema.js';
import type { Readiness } from '../db/database.js';
import type { Runtime } from '../runtime.js';
import { mountGraphiQL } from './graphiql.js';
import { createMetrics } from './metrics.js';

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  /** Stops accepting, finishes in-flight requests, closes WebSockets with 1001. Idempotent. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export async function startApiServer(runtime: Runtime): Promise<ApiServer> {
  const { config, log } = runtime;
  const schema = await getSchema();
  const metrics = createMetrics(runtime.queue);
  const includeStacktrace = config.nodeEnv !== 'production';
  const format = (formatted: GraphQLFormattedError, error: unknown) => formatError(formatted, error, { includeStacktrace });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  const httpServer = createServer(app);

  app.use(metrics.httpMiddleware);
  app.use(
    pinoHttp({
      logger: log,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'debug'),
      autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
      quietReqLogger: true,
    }),
  );

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', async (_req, res) => {
    const checks = await Promise.all([runtime.db.readiness(), runtime.redisReadiness() ?? Promise.resolve<Readiness>({ ok: true })]);
    const failed = checks.filter((c) => !c.ok).map((c) => c.reason);
    if (failed.length > 0) res.status(503).json({ status: 'unavailable', reasons: failed });
    else res.json({ status: 'ready' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  mountGraphiQL(app);

  // WebSocket: graphql-ws (graphql-transport-ws) on the same path as HTTP.
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.bodyLimitBytes });
  wsServer.on('connection', (socket) => {
    metrics.openWebSockets.inc();
    socket.once('close', () => metrics.openWebSockets.dec());
  });
  // Per connection: the operations in flight, to count subscriptions and time queries over WS.
  const inFlight = new WeakMap<object, Map<string, { start: bigint; type: string; name: string | undefined }>>();
  const operations = (ctx: object) => {
    let map = inFlight.get(ctx);
    if (!map) inFlight.set(ctx, (map = new Map()));
    return map;
  };
  const wsCleanup = useServer<Record<string, unknown>>(
    {
      schema,
      connectionInitWaitTimeout: config.wsInitTimeoutMs,
      context: () => {
        const requestId = randomUUID();
        return createContext(runtime, requestId, log.child({ reqId: requestId, transport: 'ws' }));
      },
      onSubscribe: (ctx, id) => {
        operations(ctx).set(id, { start: process.hrtime.bigint(), type: 'invalid', name: undefined });
      },
      onOperation: (ctx, id, _payload, args) => {
        const entry = operations(ctx).get(id);
        if (!entry) return;
        const op = getOperationAST(args.document, args.operationName);
        entry.type = op?.operation ?? 'invalid';
        entry.name = op?.name?.value;
        if (entry.type === 'subscription') {
          metrics.activeSubscriptions.inc();
          metrics.observeOperation(entry.name, 'subscription', 'ws', 'ok', 0);
        }
      },
      onNext: (_ctx, _id, _payload, _args, result) => formatResult(result as ExecutionResult),
      onError: (ctx, id, _payload, errors) => {
        operations(ctx).delete(id);
        return errors.map((e) => format(e.toJSON(), e)) as never;
      },
      // A dropped socket ends its subscriptions without onComplete.
      onClose: (ctx) => {
        for (const entry of operations(ctx).values()) if (entry.type === 'subscription') metrics.activeSubscriptions.dec();
        operations(ctx).clear();
      },
      onComplete: (ctx, id) => {
        const entry = operations(ctx).get(id);
        operations(ctx).delete(id);
        if (!entry) return;
        if (entry.type === 'subscription') metrics.activeSubscriptions.dec();
        else metrics.observeOperation(entry.name, entry.type, 'ws', 'ok', Number(process.hrtime.bigint() - entry.start) / 1e9);
      },
    },
    wsServer,
  );

  function formatResult(result: ExecutionResult): ExecutionResult {
    if (!result.errors?.length) return result;
    for (const e of result.errors) if (isUnexpected(e)) log.error({ err: e.originalError ?? e }, 'unexpected error in subscription');
    return { ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) as unknown as GraphQLError[] };
  }

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: config.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // The CLI owns signals and shuts everything down in order; Apollo's own handler re-raises them.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: includeStacktrace,
    formatError: format,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownGraceMs }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
      ApolloServerPluginLandingPageDisabled(),
      {
        // Apollo would run a subscription sent over HTTP as a query and fail on its null root.
        async requestDidStart() {
          return {
            async didResolveOperation({ operation }) {
              if (operation?.operation === 'subscription') {
                throw new GraphQLError('Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql, not over HTTP.', {
                  extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
                });
              }
            },
          };
        },
      },
      metrics.apolloPlugin,
      {
        async requestDidStart() {
          return {
            async didEncounterErrors({ errors, contextValue }) {
              for (const e of errors) if (isUnexpected(e)) contextValue.log.error({ err: e.originalError ?? e }, 'unexpected error');
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  app.use(
    '/graphql',
    express.json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/graphql-response+json'] }),
    expressMiddleware(apollo, {
      context: async ({ req }) => createContext(runtime, String(req.id), req.log),
    }),
  );

  app.use((_req, res) => {
    res.status(404).json({ errors: [{ message: 'Not found. GraphQL is served at /graphql.', extensions: { code: 'NOT_FOUND' } }] });
  });
  const onError: ErrorRequestHandler = (err: { type?: string; status?: number; message?: string }, req, res, _next) => {
    if (err.type === 'entity.too.large') {
      res.status(413).json({
        errors: [{ message: `Request body is larger than the limit of ${config.bodyLimitBytes} bytes (ARENA_BODY_LIMIT_BYTES).`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
      });
      return;
    }
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ errors: [{ message: `Request body is not valid JSON: ${err.message}`, extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    if (err.status && err.status >= 400 && err.status < 500) {
      res.status(err.status).json({ errors: [{ message: err.message ?? 'Bad request.', extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    req.log.error({ err }, 'unhandled error');
    res.status(500).json({ errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  };
  app.use(onError);

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url: `${url}/graphql`, graphiql: `${url}/graphiql` }, 'API listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    httpServer,
    close: () =>
      (closing ??= (async () => {
        // Apollo's drain: graphql-ws closes sockets with 1001, then HTTP stops accepting and
        // waits for in-flight requests up to the grace period.
        await apollo.stop();
        wsServer.close();
      })()),
  };
}

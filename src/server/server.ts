import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { GraphQLError, getOperationAST, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import { formatError, isUnexpected } from '../graphql/errors.js';
import { jitGateway } from '../graphql/jit-gateway.js';
import { getSchema } from '../graphql/schema.js';
import type { Readiness } from '../db/database.js';
import type { Runtime } from '../runtime.js';
import { mountGraphiQL, wantsGraphiQL } from './graphiql.js';
import { requestPlugin } from './request-plugin.js';
import { createGraphQLHttpHandler, trackRequest } from './graphql-http.js';
import { sendJsonError, sendRequestError } from './http-errors.js';
import { createMetrics } from './metrics.js';

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  /** Stops accepting, finishes in-flight requests, closes WebSockets with 1001. Idempotent. */
  close(): Promise<void>;
}

export async function startApiServer(runtime: Runtime): Promise<ApiServer> {
  const { config, log } = runtime;
  const schema = await getSchema();
  const metrics = createMetrics(runtime.queue, () => runtime.services.inference.stats());
  const includeStacktrace = config.nodeEnv !== 'production';
  const format = (formatted: GraphQLFormattedError, error: unknown) => formatError(formatted, error, { includeStacktrace });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  // Requests are routed below: /graphql to Apollo directly, the rest to Express.
  const httpServer = createServer();

  app.use(metrics.httpMiddleware);
  const requestIds: RequestHandler = (req, res, next) => {
    trackRequest(req, res, log);
    next();
  };
  app.use(requestIds);

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
      context: () => createContext(runtime, randomUUID(), { transport: 'ws' }),
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
    gateway: jitGateway(schema),
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
      // No cache hints are used; the default plugin still wraps every field resolver (seen per
      // result of a 1,000-text classify in bench profiles).
      ApolloServerPluginCacheControlDisabled(),
      requestPlugin(metrics),
    ],
  });
  await apollo.start();

  app.use((_req, res) => {
    res.status(404).json({ errors: [{ message: 'Not found. GraphQL is served at /graphql.', extensions: { code: 'NOT_FOUND' } }] });
  });
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    if (sendRequestError(res, err, config.bodyLimitBytes)) return;
    log.error({ err, url: req.originalUrl }, 'unhandled error');
    sendJsonError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error.');
  };
  app.use(onError);

  const graphqlHttp = createGraphQLHttpHandler({
    apollo,
    bodyLimitBytes: config.bodyLimitBytes,
    uploadLimitBytes: config.inference.uploadLimitBytes,
    log,
    context: (requestId) => createContext(runtime, requestId),
    observe: (method, status, seconds) => metrics.observeHttp('/graphql', method, status, seconds),
  });
  httpServer.on('request', (req, res) => {
    const path = req.url!.split('?', 1)[0];
    if (path === '/graphql' && !wantsGraphiQL(req)) graphqlHttp(req, res);
    else app(req, res);
  });

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

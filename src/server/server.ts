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
import { AppError } from '../errors.js';
import { createContext, type GraphQLContext, type RequestIdentity } from '../graphql/context.js';
import { operationLimits, tokenLimitError, validateWithLimits } from '../graphql/limits.js';
import { formatError, isUnexpected } from '../graphql/errors.js';
import { jitGateway } from '../graphql/jit-gateway.js';
import { getSchema } from '../graphql/schema.js';
import type { Readiness } from '../db/database.js';
import type { Runtime } from '../runtime.js';
import { mountGraphiQL, wantsGraphiQL } from './graphiql.js';
import { mountDashboard } from './dashboard.js';
import { requestPlugin } from './request-plugin.js';
import { createGraphQLHttpHandler, trackRequest } from './graphql-http.js';
import { sendJsonError, sendRequestError } from './http-errors.js';
import { createMetrics } from './metrics.js';
import { DATASET_EXPORT_ROUTE, datasetExportHandler } from './dataset-export.js';
import { createRequestGuard, type RequestGuard } from './guard.js';
import { wsFanoutOptions } from './ws-fanout.js';
import type { Principal } from '../services/index.js';

export interface ApiServerOptions {
  /** Authentication and rate limits; the real ones unless a benchmark measures without them. */
  readonly guard?: RequestGuard;
  /** Depth, alias, directive, cost and token limits; on unless a benchmark measures without them. */
  readonly limits?: boolean;
}

/** graphql-ws closes a connection it refuses with 4403 Forbidden; an ended sign-in closes the same way. */
const WS_FORBIDDEN = 4403;
/** setTimeout's longest delay; a later expiry is caught by the per-event check instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface LiveConnection {
  readonly principal: Principal;
  readonly close: (reason: string) => void;
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  /** Stops accepting, finishes in-flight requests, closes WebSockets with 1001. Idempotent. */
  close(): Promise<void>;
}

export async function startApiServer(runtime: Runtime, options: ApiServerOptions = {}): Promise<ApiServer> {
  const { config, log } = runtime;
  const schema = await getSchema();
  const metrics = createMetrics(runtime.queue, () => runtime.services.inference.stats());
  const production = config.nodeEnv === 'production';
  const includeStacktrace = !production;
  const format = (formatted: GraphQLFormattedError, error: unknown) => formatError(formatted, error, { includeStacktrace, hideSuggestions: production });
  const guard = options.guard ?? createRequestGuard(runtime.services);
  const limits = options.limits === false ? { rules: [], maxTokens: Number.MAX_SAFE_INTEGER } : operationLimits(config.security);

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
  app.get(DATASET_EXPORT_ROUTE, datasetExportHandler(runtime, guard));
  mountGraphiQL(app);
  mountDashboard(app);

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
  // Signed-in connections, so an ended sign-in (logout, disabled account, new role) closes them.
  const live = new Set<LiveConnection>();
  const stopWatchingAuth = runtime.services.principals.onChange((change) => {
    if (!change.ended) return;
    for (const connection of live) {
      const p = connection.principal;
      if (p.id === change.userId || (change.sessionId && p.sessionId === change.sessionId) || (change.apiKeyId && p.apiKeyId === change.apiKeyId)) {
        connection.close('Forbidden: the sign-in behind this connection has ended');
      }
    }
  });
  type WsExtra = { identity?: RequestIdentity };
  const identityOf = (extra: unknown) => (extra as WsExtra).identity ?? { principal: null, ip: null };
  const wsCleanup = useServer<Record<string, unknown>, WsExtra>(
    {
      schema,
      connectionInitWaitTimeout: config.wsInitTimeoutMs,
      validate: validateWithLimits(limits, { introspection: config.introspection }),
      // A missing or bad token closes the socket with 4403 before any operation.
      onConnect: async (ctx) => {
        let identity: RequestIdentity;
        try {
          identity = await guard.connect(ctx.connectionParams, ctx.extra.request);
        } catch (error) {
          if (error instanceof AppError) return false;
          throw error;
        }
        ctx.extra.identity = identity;
        const principal = identity.principal;
        if (!principal) return true;
        const socket = ctx.extra.socket;
        const connection: LiveConnection = { principal, close: (reason) => socket.close(WS_FORBIDDEN, reason) };
        live.add(connection);
        const untilExpiry = principal.expiresAt === null ? null : principal.expiresAt - Date.now();
        const timer =
          untilExpiry !== null && untilExpiry < MAX_TIMER_MS ? setTimeout(() => connection.close('Forbidden: the access token has expired'), untilExpiry) : undefined;
        timer?.unref();
        socket.once('close', () => {
          clearTimeout(timer);
          live.delete(connection);
        });
        return true;
      },
      // A battle's rounds: executed and serialized once per event for all subscribers, coalesced for slow readers.
      ...wsFanoutOptions({
        fields: { battleRoundCompleted: { list: 'rounds' } },
        formatResult: (result) => formatResult(result),
        context: (ctx) => createContext(runtime, randomUUID(), identityOf(ctx.extra), { transport: 'ws' }),
      }),
      onSubscribe: async (ctx, id, payload) => {
        operations(ctx).set(id, { start: process.hrtime.bigint(), type: 'invalid', name: undefined });
        const tooLong = tokenLimitError(payload.query, limits);
        if (tooLong) return [tooLong];
        try {
          await guard.operation(identityOf(ctx.extra));
        } catch (error) {
          if (error instanceof AppError) {
            return [new GraphQLError(error.message, { extensions: { ...error.details, code: error.code } })];
          }
          throw error;
        }
        return undefined;
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
    validationRules: [...limits.rules],
    parseOptions: { maxTokens: limits.maxTokens },
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
              stopWatchingAuth();
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
    // Each service enforces its own limit while it spools; this is the largest of them.
    uploadLimitBytes: Math.max(config.inference.uploadLimitBytes, config.dataset.uploadLimitBytes),
    log,
    identify: (req) => guard.http(req),
    context: (requestId, identity) => createContext(runtime, requestId, identity),
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
  await announceFirstAdmin(runtime, url);

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

/**
 * First contact: with no users yet, make an admin and print a one-time link that signs in to the
 * dashboard (or GraphiQL), so a new user is in without reading any docs.
 */
async function announceFirstAdmin(runtime: Runtime, url: string): Promise<void> {
  const first = await runtime.services.auth.ensureFirstAdmin(runtime.db.fork());
  if (!first) return;
  // The same one-time token signs in to the dashboard (/) or to GraphiQL, whichever opens it first.
  // signInLink stays GraphiQL's: scripts read that field.
  const dashboardLink = `${url}/#signin=${first.token}`;
  const link = `${url}/graphiql#signin=${first.token}`;
  runtime.log.info(
    { email: first.email, dashboardSignInLink: dashboardLink, signInLink: link, expiresAt: first.expiresAt.toISOString() },
    `No users yet, so an admin (${first.email}) was created. Open ${dashboardLink} to sign in to the dashboard (or ${link} for GraphiQL; one use, within ${Math.round(
      (first.expiresAt.getTime() - Date.now()) / 3_600_000,
    )} h), then set a password with updateUser or make an API key with createApiKey. Scripts and CI: \`arena users create\`, \`arena users token\`.`,
  );
}

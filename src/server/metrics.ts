import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobQueue } from '../queue/index.js';
import type { InferenceCounters } from '../services/index.js';

const KNOWN_ROUTES = new Set(['/graphql', '/health', '/ready', '/metrics', '/graphiql']);
/** Operation names come from clients; past this many distinct ones, the rest share one label. */
const MAX_OPERATION_NAMES = 200;

export interface ServerMetrics {
  readonly registry: Registry;
  readonly openWebSockets: Gauge;
  readonly activeSubscriptions: Gauge;
  readonly httpMiddleware: RequestHandler;
  observeHttp(route: string, method: string, status: number, seconds: number): void;
  observeOperation(name: string | null | undefined, type: string, transport: 'http' | 'ws', outcome: 'ok' | 'error', seconds: number): void;
}

/** One registry per server, so several servers in one process (tests, benchmarks) never collide. */
export function createMetrics(queue: JobQueue, inference: () => InferenceCounters): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'arena_' });

  const httpDuration = new Histogram({
    name: 'arena_http_request_duration_seconds',
    help: 'HTTP request duration by route, method and status.',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const operationDuration = new Histogram({
    name: 'arena_graphql_operation_duration_seconds',
    help: 'GraphQL operation duration by operation name and type (queries and mutations; subscriptions over WebSocket are counted, not timed).',
    labelNames: ['operation', 'type', 'transport', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const subscriptionsStarted = new Counter({
    name: 'arena_graphql_subscriptions_started_total',
    help: 'Subscriptions started over WebSocket.',
    labelNames: ['operation'],
    registers: [registry],
  });
  const openWebSockets = new Gauge({ name: 'arena_websockets_open', help: 'Open GraphQL WebSocket connections.', registers: [registry] });
  const activeSubscriptions = new Gauge({ name: 'arena_graphql_subscriptions_active', help: 'Active GraphQL subscriptions.', registers: [registry] });
  new Gauge({
    name: 'arena_queue_jobs',
    help: 'Jobs per queue and state (waiting, active, delayed, failed).',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const d of await queue.depths()) {
          for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) this.set({ queue: d.queue, state }, d[state]);
        }
      } catch {
        // Redis down: /ready reports it; the scrape still returns the rest.
      }
    },
  });

  // Inference counters live in the service (workers count too); these read them at scrape time.
  new Counter({
    name: 'arena_inference_texts_total',
    help: 'Texts classified by this process, by where the answer came from (model or cache).',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      const c = inference();
      this.reset();
      this.inc({ source: 'model' }, c.textsFromModel);
      this.inc({ source: 'cache' }, c.textsFromCache);
    },
  });
  new Counter({
    name: 'arena_inference_predictions_total',
    help: 'predict calls answered by this process.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(inference().predictions);
    },
  });
  new Gauge({
    name: 'arena_inference_model_versions_loaded',
    help: 'Model versions with a loaded onnxruntime session in this process.',
    registers: [registry],
    collect() {
      this.set(inference().loadedVersions);
    },
  });
  new Counter({
    name: 'arena_inference_audit_entries_total',
    help: 'Inference audit log entries, written or dropped (the buffer overflowed while the database was unreachable).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const c = inference();
      this.reset();
      this.inc({ outcome: 'written' }, c.auditWritten);
      this.inc({ outcome: 'dropped' }, c.auditDropped);
    },
  });
  new Gauge({
    name: 'arena_inference_audit_pending',
    help: 'Inference audit log entries buffered, not yet written.',
    registers: [registry],
    collect() {
      this.set(inference().auditPending);
    },
  });

  const seenNames = new Set<string>();
  const operationLabel = (name: string | null | undefined) => {
    const n = name || 'anonymous';
    if (seenNames.has(n)) return n;
    if (seenNames.size >= MAX_OPERATION_NAMES) return 'other';
    seenNames.add(n);
    return n;
  };
  const observeOperation: ServerMetrics['observeOperation'] = (name, type, transport, outcome, seconds) => {
    if (type === 'subscription') {
      subscriptionsStarted.inc({ operation: operationLabel(name) });
      return;
    }
    operationDuration.observe({ operation: operationLabel(name), type, transport, outcome }, seconds);
  };

  const observeHttp: ServerMetrics['observeHttp'] = (route, method, status, seconds) =>
    httpDuration.observe({ route, method, status }, seconds);

  const httpMiddleware: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    // Read now: Express rewrites req.url inside mounted middleware.
    const path = req.path.startsWith('/graphiql') ? '/graphiql' : req.path;
    const route = KNOWN_ROUTES.has(path) ? path : 'other';
    res.once('finish', () => observeHttp(route, req.method, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9));
    next();
  };

  return { registry, openWebSockets, activeSubscriptions, httpMiddleware, observeHttp, observeOperation };
}

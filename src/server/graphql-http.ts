import type { ApolloServer } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import bodyParser from 'body-parser';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../errors.js';
import type { GraphQLContext, RequestIdentity } from '../graphql/context.js';
import type { Logger } from '../logger.js';
import processRequest from 'graphql-upload/processRequest.mjs';
import { sendGuardError } from './guard.js';
import { sendJsonError, sendRequestError, type HttpLayerError } from './http-errors.js';

const isMultipart = (req: IncomingMessage) => req.headers['content-type']?.toLowerCase().startsWith('multipart/form-data') === true;

const REQUEST_ID = /^[\w.:-]{1,128}$/;

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Every request, on either path: the client's sane `x-request-id` or a new one, echoed back, and
 * a warning with it when the response is an error (successes are not logged: see bench/).
 */
export function trackRequest(req: IncomingMessage, res: ServerResponse, log: Logger): string {
  const requestId = requestIdOf(req);
  res.setHeader('x-request-id', requestId);
  res.once('finish', () => {
    if (res.statusCode >= 400) log.warn({ reqId: requestId, method: req.method, url: req.url, status: res.statusCode }, 'request failed');
  });
  return requestId;
}

export interface GraphQLHttpOptions {
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly bodyLimitBytes: number;
  /** Largest file in a GraphQL multipart request (model uploads). */
  readonly uploadLimitBytes: number;
  readonly log: Logger;
  /** Authentication and rate limits, before the body is read. */
  readonly identify: (req: IncomingMessage) => Promise<RequestIdentity>;
  readonly context: (requestId: string, identity: RequestIdentity) => GraphQLContext;
  readonly observe: (method: string, status: number, seconds: number) => void;
}

/**
 * GraphQL over HTTP straight from node:http to Apollo, the way Apollo's standalone server does
 * it. Express costs more per request than all of Apollo's work on a small query (measured in
 * bench/), so it serves only the other routes.
 */
export function createGraphQLHttpHandler(o: GraphQLHttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const json = bodyParser.json({ limit: o.bodyLimitBytes });
  // GraphQL multipart requests (file uploads): files stream to temp files, fields stay small.
  const multipart = (req: IncomingMessage, res: ServerResponse, next: (err?: HttpLayerError) => void) => {
    if (!isMultipart(req)) return json(req, res, next);
    // The CSRF rule Apollo applies, checked before any of the body is read: a browser cannot
    // send these headers cross-site without a preflight.
    if (!req.headers['apollo-require-preflight'] && !req.headers['x-apollo-operation-name']) {
      res.setHeader('connection', 'close');
      sendJsonError(
        res,
        400,
        'BAD_REQUEST',
        'This multipart request has no "apollo-require-preflight" (or "x-apollo-operation-name") header, required to prevent cross-site request forgery. Add "apollo-require-preflight: true".',
      );
      return;
    }
    processRequest(req, res, { maxFiles: 1, maxFileSize: o.uploadLimitBytes, maxFieldSize: o.bodyLimitBytes }).then(
      (body) => {
        (req as IncomingMessage & { body?: unknown }).body = body;
        next();
      },
      (err: HttpLayerError) => next(err),
    );
  };
  return (req, res) => {
    const start = process.hrtime.bigint();
    const requestId = trackRequest(req, res, o.log);
    res.once('finish', () => o.observe(req.method ?? 'GET', res.statusCode, Number(process.hrtime.bigint() - start) / 1e9));
    o.identify(req).then(
      (identity) => serve(req, res, requestId, identity),
      (error: unknown) => {
        // The body was not read: close the connection rather than drain a possibly large upload.
        if (isMultipart(req) || Number(req.headers['content-length'] ?? 0) > 65_536) res.setHeader('connection', 'close');
        if (error instanceof AppError) sendGuardError(res, error);
        else fail(res, requestId, error);
      },
    );
  };

  function serve(req: IncomingMessage, res: ServerResponse, requestId: string, identity: RequestIdentity): void {
    multipart(req, res, (err?: HttpLayerError) => {
      if (err) {
        if (!sendRequestError(res, err, o.bodyLimitBytes)) fail(res, requestId, err);
        return;
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const query = req.url!.indexOf('?');
      o.apollo
        .executeHTTPGraphQLRequest({
          httpGraphQLRequest: {
            method: req.method!.toUpperCase(),
            headers,
            search: query === -1 ? '' : req.url!.slice(query),
            body: (req as IncomingMessage & { body?: unknown }).body,
          },
          context: async () => o.context(requestId, identity),
        })
        .then(async (response) => {
          for (const [key, value] of response.headers) res.setHeader(key, value);
          res.statusCode = response.status ?? 200;
          if (response.body.kind === 'complete') {
            res.end(response.body.string);
            return;
          }
          for await (const chunk of response.body.asyncIterator) res.write(chunk);
          res.end();
        })
        .catch((error: unknown) => fail(res, requestId, error));
    });
  }

  function fail(res: ServerResponse, requestId: string, error: unknown): void {
    o.log.error({ reqId: requestId, err: error }, 'unhandled error serving /graphql');
    if (!res.headersSent) sendJsonError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error.');
    else res.destroy();
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../errors.js';
import type { RequestIdentity } from '../graphql/context.js';
import type { Services } from '../services/index.js';
import { sendJsonError } from './http-errors.js';

/**
 * Who a request is, checked before anything else runs (before a body is read or an upload
 * spooled): authentication and the per-user and per-IP rate limits, the same for HTTP and
 * WebSocket. Authorization happens later, in the services.
 */
export interface RequestGuard {
  /** One HTTP request. Throws AppError: UNAUTHENTICATED (bad credentials) or RATE_LIMITED. */
  http(req: IncomingMessage): Promise<RequestIdentity>;
  /** A WebSocket's connection_init: the token comes in connectionParams. */
  connect(params: Readonly<Record<string, unknown>> | undefined, req: IncomingMessage): Promise<RequestIdentity>;
  /** Each operation started on a WebSocket counts against the same budgets. */
  operation(identity: RequestIdentity): Promise<void>;
}

export const clientIp = (req: IncomingMessage): string | null => req.socket.remoteAddress ?? null;

/** `authorization` (or `Authorization`), with or without the "Bearer " prefix, from connectionParams. */
function paramsCredential(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const value = params?.['authorization'] ?? params?.['Authorization'] ?? params?.['token'];
  if (typeof value !== 'string' || value === '') return undefined;
  return /^Bearer\s/i.test(value) ? value : `Bearer ${value}`;
}

export function createRequestGuard(services: Pick<Services, 'principals' | 'rateLimits'>): RequestGuard {
  const { principals, rateLimits } = services;
  return {
    async http(req) {
      const ip = clientIp(req);
      const principal = await principals.authenticate(req.headers.authorization);
      await rateLimits.request(principal?.id ?? null, ip);
      return { principal, ip };
    },
    async connect(params, req) {
      const principal = await principals.authenticate(paramsCredential(params));
      if (!principal) {
        throw new AppError('UNAUTHENTICATED', 'Send an access token or API key as connectionParams { authorization: "Bearer …" }.', { reason: 'NO_CREDENTIALS' });
      }
      return { principal, ip: clientIp(req) };
    },
    operation: (identity) => rateLimits.request(identity.principal?.id ?? null, identity.ip),
  };
}

/** A refused request, answered before GraphQL: 401 or 429 (with Retry-After), GraphQL-shaped. */
export function sendGuardError(res: ServerResponse, error: AppError): void {
  if (error.code === 'RATE_LIMITED') {
    res.setHeader('retry-after', String(error.details['retryAfterSeconds'] ?? 1));
    sendJsonError(res, 429, error.code, error.message, error.details);
  } else {
    res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
    sendJsonError(res, 401, error.code, error.message, error.details);
  }
}

import type { ServerResponse } from 'node:http';

/** What body-parser and friends attach to the errors they raise. */
export interface HttpLayerError {
  readonly type?: string;
  readonly status?: number;
  readonly message?: string;
}

export function sendJsonError(res: ServerResponse, status: number, code: string, message: string, extensions: Record<string, unknown> = {}): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { ...extensions, code } }] });
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * Errors raised before GraphQL sees the request (body too large, not JSON, bad charset), in the
 * same shape as GraphQL errors. Returns false for anything else: that is a bug, not bad input.
 */
export function sendRequestError(res: ServerResponse, err: HttpLayerError, bodyLimitBytes: number): boolean {
  if (err.type === 'entity.too.large') {
    sendJsonError(res, 413, 'PAYLOAD_TOO_LARGE', `Request body is larger than the limit of ${bodyLimitBytes} bytes (ARENA_BODY_LIMIT_BYTES).`);
  } else if (err.type === 'entity.parse.failed') {
    sendJsonError(res, 400, 'BAD_REQUEST', `Request body is not valid JSON: ${err.message}`);
  } else if (err.status && err.status >= 400 && err.status < 500) {
    sendJsonError(res, err.status, 'BAD_REQUEST', err.message ?? 'Bad request.');
  } else {
    return false;
  }
  return true;
}

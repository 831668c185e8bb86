/**
 * Expected outcomes a client must handle carry a code and a message a person can act on.
 * Anything else is a bug: it is logged and reaches clients as INTERNAL_SERVER_ERROR.
 */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'CONFLICT',
  'RATE_LIMITED',
  'UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra machine-readable facts (the offending field, the limit) sent in `extensions`. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badInput = (message: string, details: Record<string, unknown> = {}) => new AppError('BAD_USER_INPUT', message, details);
export const notFound = (what: string, id: string) => new AppError('NOT_FOUND', `No ${what} with id ${id}.`, { id });

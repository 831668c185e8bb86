import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AppError } from '../errors.js';
import { hideSuggestions } from './limits.js';

export interface FormatOptions {
  readonly includeStacktrace: boolean;
  /** Drop "Did you mean …?" from validation messages (production: they reveal the schema). */
  readonly hideSuggestions: boolean;
}

/**
 * Expected errors (AppError) keep their code and message; GraphQL's own (syntax, validation)
 * pass through; anything else is a bug and is masked, with the stack in development only.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, options: FormatOptions): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { ...original.details, code: original.code },
    };
  }
  if (original instanceof GraphQLError || !(original instanceof Error)) {
    return options.hideSuggestions ? { ...formatted, message: hideSuggestions(formatted.message) } : formatted;
  }
  return {
    message: 'Internal server error. The request id in the x-request-id header identifies it in the server log.',
    locations: formatted.locations,
    path: formatted.path,
    extensions: {
      code: 'INTERNAL_SERVER_ERROR',
      ...(options.includeStacktrace ? { stacktrace: original.stack?.split('\n') } : {}),
    },
  };
}

/** True for errors that are bugs (worth an error log line), false for expected outcomes. */
export function isUnexpected(error: unknown): boolean {
  const original = unwrapResolverError(error);
  return !(original instanceof AppError) && !(original instanceof GraphQLError) && original instanceof Error;
}

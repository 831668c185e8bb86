import { defaultFieldResolver, type GraphQLSchema } from 'graphql';
import { AppError } from '../errors.js';
import type { GraphQLContext } from './context.js';

/** Input fields worth recording: what the mutation was about. Secrets and payloads are never copied. */
const TARGET_KEYS = /^(id|\w+Id|model|name|email|alias|version|role|visibility|disabled|everywhere)$/;
const MAX_TARGET_LENGTH = 200;

function collectTargets(source: unknown, into: Record<string, string>): void {
  if (!source || typeof source !== 'object') return;
  for (const [key, value] of Object.entries(source)) {
    if (!TARGET_KEYS.test(key) || value === null || value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') into[key] = String(value).slice(0, MAX_TARGET_LENGTH);
  }
}

/** Ids of what the payload returned: `{ model: { id } }` → `modelId`. */
function resultTargets(result: unknown, into: Record<string, string>): void {
  if (!result || typeof result !== 'object') return;
  for (const [key, value] of Object.entries(result)) {
    const id = value && typeof value === 'object' ? (value as { id?: unknown }).id : undefined;
    if (typeof id === 'string' || typeof id === 'number') into[`${key}Id`] ??= String(id);
  }
}

/**
 * Wraps every Mutation field so each call leaves an audit entry: principal, operation, target
 * ids, outcome, time, request id. Done on the built schema rather than per resolver, so a new
 * mutation cannot forget it; queries pay nothing.
 */
export function auditMutations(schema: GraphQLSchema): GraphQLSchema {
  const mutation = schema.getMutationType();
  if (!mutation) return schema;
  for (const field of Object.values(mutation.getFields())) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = async (source, args, context: GraphQLContext, info) => {
      const targets: Record<string, string> = {};
      collectTargets(args, targets);
      collectTargets((args as { input?: unknown }).input, targets);
      const record = (outcome: string) =>
        context.services.auditLog.record({
          principal: context.principal,
          operation: info.fieldName,
          targets,
          outcome,
          requestId: context.requestId,
          ip: context.ip,
          createdAt: new Date(),
        });
      try {
        const result: unknown = await resolve(source, args, context, info);
        resultTargets(result, targets);
        record('OK');
        return result;
      } catch (error) {
        record(error instanceof AppError ? error.code : 'INTERNAL_SERVER_ERROR');
        throw error;
      }
    };
  }
  return schema;
}

import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { GraphQLError, printSchema, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/**
 * Executes HTTP operations with graphql-jit: each (document, operation) is compiled once into a
 * function and reused. Apollo's document store hands back the same DocumentNode for the same
 * query text, so the cache is keyed by that object and goes away with it.
 *
 * Apollo Server 5 accepts a custom executor only through its gateway interface; this "gateway"
 * serves one local schema. Subscriptions (WebSocket) keep graphql-js's executor.
 */
export function jitGateway(schema: GraphQLSchema): GatewayInterface {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | ExecutionResult>>();

  const compile = (document: DocumentNode, operationName: string | null) => {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map()));
    const key = operationName ?? '';
    let entry = byName.get(key);
    if (!entry) byName.set(key, (entry = compileQuery(schema, document, operationName ?? undefined)));
    return entry;
  };

  const executor: GatewayExecutor = async (rc) => {
    // In gateway mode Apollo leaves an unresolvable operation to the executor.
    if (!rc.operation) return { errors: [unknownOperation(rc.request.operationName ?? null)] };
    const query = compile(rc.document, rc.operationName);
    const result = isCompiledQuery(query) ? await query.query(undefined, rc.context, rc.request.variables ?? {}) : query;
    return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => {};
    },
    async load() {
      return { executor };
    },
    async stop() {},
  };
}

/** The 400 Apollo itself answers outside gateway mode. */
function unknownOperation(name: string | null): GraphQLError {
  const message = name ? `Unknown operation named "${name}".` : 'Must provide operation name if query contains multiple operations.';
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

/**
 * graphql-jit's errors lack the `extensions` object Apollo's error pipeline reads; rebuild
 * them as graphql-js errors, keeping path, locations and the original error (an AppError's
 * code survives through it).
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const rebuilt = new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions ?? {},
  });
  return Object.assign(rebuilt, { locations: error.locations });
}

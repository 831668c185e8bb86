import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { SecurityConfig } from '../config/config.js';

export interface OperationLimits {
  /** graphql-armor's depth, alias, directive and cost rules, run with graphql's own validation. */
  readonly rules: readonly ValidationRule[];
  /** graphql's parser stops at this many tokens (a cheap guard against huge documents). */
  readonly maxTokens: number;
}

/**
 * Hostile-query limits, one set for HTTP (Apollo's validationRules and parseOptions) and
 * WebSocket (graphql-ws's validate and a parse check). Introspection is exempt from depth and
 * cost, as GraphiQL's own query is deep.
 */
export function operationLimits(c: Pick<SecurityConfig, 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'maxCost' | 'maxTokens'>): OperationLimits {
  // graphql-armor throws from inside the visitor by default (propagateOnRejection), which Apollo and
  // graphql-ws answer as an internal error (500). Reported as validation errors, a refused query
  // gets 400 / an error message naming the limit, like any other invalid query.
  const refuse = { propagateOnRejection: false, onReject: [reportLimit], exposeLimits: true };
  return {
    rules: [
      maxDepthRule({ n: c.maxDepth, ignoreIntrospection: true, ...refuse }),
      maxAliasesRule({ n: c.maxAliases, ...refuse }),
      maxDirectivesRule({ n: c.maxDirectives, ...refuse }),
      costLimitRule({ maxCost: c.maxCost, ignoreIntrospection: true, ...refuse }),
    ],
    maxTokens: c.maxTokens,
  };
}

/** graphql-armor names its refusals "Syntax Error: …" though the query parsed; the limit is what matters. */
function reportLimit(context: ValidationContext | null, error: GraphQLError): void {
  context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { limit: true } }));
}

/**
 * The validate function graphql-ws runs for each subscribe: graphql's rules plus the limits, and
 * (where introspection is off) the rule Apollo adds on HTTP, so WebSocket is no way around it.
 */
export function validateWithLimits(
  limits: OperationLimits,
  options: { introspection: boolean },
): (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[] {
  const rules = [...specifiedRules, ...limits.rules, ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  return (schema, document) => validate(schema, document, rules);
}

/** Null when the query is within the token limit, else the parser's error. */
export function tokenLimitError(query: string, limits: OperationLimits): GraphQLError | null {
  try {
    parse(query, { maxTokens: limits.maxTokens, noLocation: true });
    return null;
  } catch (error) {
    return error instanceof GraphQLError ? error : null;
  }
}

/** Production hides schema hints: "Did you mean …?" in validation messages tells an attacker field names. */
export const hideSuggestions = (message: string): string => message.replace(/ ?Did you mean .+\?$/u, '').trim();

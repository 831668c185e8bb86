import { Arg, Args, ArgsType, Ctx, Field, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { decodeIntCursor, decodeKeyCursor, encodeKeyCursor, pageSize, toConnection } from '../graphql/connection.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { ApiKeyView, SessionTokens, UserView } from '../services/index.js';
import {
  ApiKey,
  AuditEntryConnection,
  AuditLogFilter,
  AuthPayload,
  CreateApiKeyInput,
  CreateApiKeyPayload,
  CreateUserInput,
  CreateUserPayload,
  LoginInput,
  LogoutInput,
  LogoutPayload,
  RedeemSignInLinkInput,
  RefreshTokenInput,
  RevokeApiKeyInput,
  RevokeApiKeyPayload,
  UpdateUserInput,
  UpdateUserPayload,
  User,
  UserConnection,
} from './auth.types.js';

@ArgsType()
class PageArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, 1 to 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

@ArgsType()
class AuditLogArgs extends PageArgs {
  @Field(() => AuditLogFilter, { nullable: true })
  filter?: AuditLogFilter | null;
}

/** Sign-in, sessions, users, API keys and the audit log. */
@Resolver()
export class AuthResolver {
  @Mutation(() => AuthPayload, { description: 'Signs in. Failed attempts are limited per account and per address (RATE_LIMITED with retryAfterSeconds).' })
  login(@Arg('input', () => LoginInput) input: LoginInput, @Ctx() ctx: GraphQLContext): Promise<SessionTokens> {
    return ctx.services.auth.login(ctx.em, input.email, input.password, ctx.ip);
  }

  @Mutation(() => AuthPayload, { description: 'Trades a refresh token for a new access token and a new refresh token (the old one stops working).' })
  refreshToken(@Arg('input', () => RefreshTokenInput) input: RefreshTokenInput, @Ctx() ctx: GraphQLContext): Promise<SessionTokens> {
    return ctx.services.auth.refresh(ctx.em, input.refreshToken);
  }

  @Mutation(() => AuthPayload, { description: 'Signs in with a one-time link (the first start prints one; `arena users link` makes more).' })
  redeemSignInLink(@Arg('input', () => RedeemSignInLinkInput) input: RedeemSignInLinkInput, @Ctx() ctx: GraphQLContext): Promise<SessionTokens> {
    return ctx.services.auth.redeemSignInLink(ctx.em, input.token);
  }

  @Mutation(() => LogoutPayload, { description: 'Ends this session (or the one of a refresh token, or all of yours): its tokens stop working at once.' })
  async logout(@Arg('input', () => LogoutInput, { nullable: true }) input: LogoutInput | null, @Ctx() ctx: GraphQLContext): Promise<LogoutPayload> {
    return { sessionsEnded: await ctx.services.auth.logout(ctx.em, ctx.principal, input ?? {}) };
  }

  @Query(() => User, { nullable: true, description: 'The signed-in user; null when anonymous.' })
  me(@Ctx() ctx: GraphQLContext): Promise<UserView | null> {
    return ctx.services.users.me(ctx.em, ctx.principal);
  }

  @Query(() => UserConnection, { description: 'Every user, by email (admins).' })
  async users(@Args(() => PageArgs) args: PageArgs, @Ctx() ctx: GraphQLContext): Promise<UserConnection> {
    const page = await ctx.services.users.list(ctx.em, ctx.principal, pageSize(args.first), decodeKeyCursor('user', args.after));
    return toConnection(page.nodes, page.hasMore, page.totalCount, (u) => encodeKeyCursor('user', u.email)) as unknown as UserConnection;
  }

  @Query(() => User, { nullable: true, description: 'A user by id (admins; anyone for themselves).' })
  user(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<UserView | null> {
    return ctx.services.users.get(ctx.em, ctx.principal, id);
  }

  @Mutation(() => CreateUserPayload, { description: 'Admins only.' })
  async createUser(@Arg('input', () => CreateUserInput) input: CreateUserInput, @Ctx() ctx: GraphQLContext): Promise<CreateUserPayload> {
    return { user: await ctx.services.users.create(ctx.em, ctx.principal, input) } as unknown as CreateUserPayload;
  }

  @Mutation(() => UpdateUserPayload, { description: 'Admins change anyone; users change their own email and password.' })
  async updateUser(@Arg('input', () => UpdateUserInput) input: UpdateUserInput, @Ctx() ctx: GraphQLContext): Promise<UpdateUserPayload> {
    return { user: await ctx.services.users.update(ctx.em, ctx.principal, input) } as unknown as UpdateUserPayload;
  }

  @Query(() => [ApiKey], { description: 'Your API keys (admins may name another user).' })
  apiKeys(@Arg('userId', () => ID, { nullable: true }) userId: string | null, @Ctx() ctx: GraphQLContext): Promise<ApiKeyView[]> {
    return ctx.services.users.apiKeys(ctx.em, ctx.principal, userId);
  }

  @Mutation(() => CreateApiKeyPayload, { description: 'A key for a service client, acting as you with at most your role. The key is shown once.' })
  createApiKey(@Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput, @Ctx() ctx: GraphQLContext): Promise<CreateApiKeyPayload> {
    return ctx.services.users.createApiKey(ctx.em, ctx.principal, input) as unknown as Promise<CreateApiKeyPayload>;
  }

  @Mutation(() => RevokeApiKeyPayload)
  async revokeApiKey(@Arg('input', () => RevokeApiKeyInput) input: RevokeApiKeyInput, @Ctx() ctx: GraphQLContext): Promise<RevokeApiKeyPayload> {
    return { apiKey: await ctx.services.users.revokeApiKey(ctx.em, ctx.principal, input.id) } as unknown as RevokeApiKeyPayload;
  }

  @Query(() => AuditEntryConnection, { description: 'Every mutation, newest first (admins).' })
  async auditLog(@Args(() => AuditLogArgs) args: AuditLogArgs, @Ctx() ctx: GraphQLContext): Promise<AuditEntryConnection> {
    const page = await ctx.services.auditLog.list(ctx.em, ctx.principal, args.filter ?? {}, pageSize(args.first), decodeIntCursor('audit', args.after));
    return toConnection(
      page.nodes.map((n) => ({ ...n, id: String(n.id) })),
      page.hasMore,
      page.totalCount,
      (n) => encodeKeyCursor('audit', n.id),
    ) as unknown as AuditEntryConnection;
  }
}

import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ROLES, VISIBILITIES, type Role, type Visibility } from '../domain/index.js';
import { Connection } from '../graphql/connection.js';

export const RoleEnum = Object.fromEntries(ROLES.map((r) => [r, r])) as { [K in Role]: K };
registerEnumType(RoleEnum, {
  name: 'Role',
  description: 'viewer: reads shared things. user: also creates, and manages what it owns. admin: everything, including users and the audit log.',
});

export const VisibilityEnum = Object.fromEntries(VISIBILITIES.map((v) => [v, v])) as { [K in Visibility]: K };
registerEnumType(VisibilityEnum, {
  name: 'Visibility',
  description: 'PRIVATE: the owner and admins. SHARED: every signed-in user may read and use it.',
});

@ObjectType()
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => RoleEnum)
  role!: Role;

  @Field(() => Boolean)
  disabled!: boolean;

  @Field(() => Date)
  createdAt!: Date | string;

  @Field(() => Date)
  updatedAt!: Date | string;
}

@ObjectType()
export class UserConnection extends Connection(User, 'User') {}

@ObjectType({ description: 'A session: a short-lived access token and the refresh token that renews it.' })
export class AuthPayload {
  @Field(() => String, { description: 'Send as "Authorization: Bearer <token>" (HTTP) or connectionParams { authorization } (WebSocket).' })
  accessToken!: string;

  @Field(() => Date)
  accessTokenExpiresAt!: Date | string;

  @Field(() => String, { description: 'Use once with refreshToken: each use returns a new one, and reusing an old one ends the session.' })
  refreshToken!: string;

  @Field(() => Date)
  refreshTokenExpiresAt!: Date | string;

  @Field(() => User)
  user!: User;
}

@InputType()
export class LoginInput {
  @Field(() => String)
  email!: string;

  @Field(() => String)
  password!: string;
}

@InputType()
export class RefreshTokenInput {
  @Field(() => String)
  refreshToken!: string;
}

@InputType()
export class RedeemSignInLinkInput {
  @Field(() => String, { description: 'The token in a sign-in link (…/graphiql#signin=<token>).' })
  token!: string;
}

@InputType()
export class LogoutInput {
  @Field(() => String, { nullable: true, description: 'Ends the session of this refresh token; without it, the session of the access token used.' })
  refreshToken?: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Ends every session of the signed-in user.' })
  everywhere?: boolean | null;
}

@ObjectType()
export class LogoutPayload {
  @Field(() => Int, { description: 'Sessions ended.' })
  sessionsEnded!: number;
}

@InputType()
export class CreateUserInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, { description: 'At least 12 characters.' })
  password!: string;

  @Field(() => RoleEnum, { defaultValue: 'user' })
  role!: Role;
}

@ObjectType()
export class UserPayload {
  @Field(() => User)
  user!: User;
}

@ObjectType()
export class CreateUserPayload extends UserPayload {}

@ObjectType()
export class UpdateUserPayload extends UserPayload {}

@InputType()
export class UpdateUserInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'A new password; ends the user’s other sessions.' })
  password?: string | null;

  @Field(() => String, { nullable: true, description: 'Needed to change your own password (unless you are an admin).' })
  currentPassword?: string | null;

  @Field(() => RoleEnum, { nullable: true, description: 'Admins only.' })
  role?: Role | null;

  @Field(() => Boolean, { nullable: true, description: 'Admins only. Disabling signs the user out everywhere and closes their live connections.' })
  disabled?: boolean | null;
}

@ObjectType()
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The key’s first characters, to tell keys apart.' })
  prefix!: string;

  @Field(() => RoleEnum)
  role!: Role;

  @Field(() => ID)
  userId!: string;

  @Field(() => Date)
  createdAt!: Date | string;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | string | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | string | null;
}

@InputType()
export class CreateApiKeyInput {
  @Field(() => String)
  name!: string;

  @Field(() => RoleEnum, { nullable: true, description: 'At most your own role; your role when omitted.' })
  role?: Role | null;

  @Field(() => Date, { nullable: true })
  expiresAt?: Date | null;
}

@ObjectType()
export class CreateApiKeyPayload {
  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field(() => String, { description: 'The key itself, shown this once: send it as "Authorization: Bearer <key>".' })
  key!: string;
}

@InputType()
export class RevokeApiKeyInput {
  @Field(() => ID)
  id!: string;
}

@ObjectType()
export class RevokeApiKeyPayload {
  @Field(() => ApiKey)
  apiKey!: ApiKey;
}

@ObjectType({ description: 'One mutation: who, what, on which ids, how it ended.' })
export class AuditEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => Date)
  createdAt!: Date | string;

  @Field(() => ID, { nullable: true, description: 'The user (directly or through an API key); null when anonymous.' })
  principalId!: string | null;

  @Field(() => String, { description: '`user`, `api-key` or `anonymous`.' })
  principalKind!: string;

  @Field(() => ID, { nullable: true })
  apiKeyId!: string | null;

  @Field(() => String, { description: 'The mutation, e.g. `createModel`.' })
  operation!: string;

  @Field(() => GraphQLJSONObject, { description: 'Ids and names the mutation named or returned.' })
  targets!: Record<string, string>;

  @Field(() => String, { description: '`OK`, or the error code it failed with.' })
  outcome!: string;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => String, { nullable: true })
  ip!: string | null;
}

@ObjectType()
export class AuditEntryConnection extends Connection(AuditEntry, 'AuditEntry') {}

@InputType()
export class AuditLogFilter {
  @Field(() => ID, { nullable: true })
  principalId?: string | null;

  @Field(() => String, { nullable: true })
  operation?: string | null;

  @Field(() => String, { nullable: true, description: '`OK` or an error code.' })
  outcome?: string | null;

  @Field(() => Date, { nullable: true })
  since?: Date | null;

  @Field(() => Date, { nullable: true })
  until?: Date | null;
}

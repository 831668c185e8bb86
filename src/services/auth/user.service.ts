import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { canGrant, checkEmail, checkPassword, isAdmin, normalizeEmail, type Role } from '../../domain/index.js';
import { ApiKey, User } from '../../entities/index.js';
import { AppError, badInput } from '../../errors.js';
import { mayAdminister, signedIn } from '../authz.js';
import type { ServiceDeps } from '../context.js';
import { API_KEY_PREFIX, hashPassword, randomSecret, sha256, verifyPassword } from './credentials.js';
import type { Principal, PrincipalDirectory } from './principals.js';

export interface UserView {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const toUserView = (u: User): UserView => ({
  id: u.id,
  email: u.email,
  role: u.role,
  disabled: u.disabled,
  createdAt: u.createdAt.toISOString(),
  updatedAt: u.updatedAt.toISOString(),
});

export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly role: Role;
  readonly userId: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

const toKeyView = (k: ApiKey): ApiKeyView => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  role: k.role,
  userId: k.user.id,
  createdAt: k.createdAt.toISOString(),
  expiresAt: k.expiresAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

export interface CreateUserInput {
  readonly email: string;
  readonly password: string;
  readonly role: Role;
}

export interface UpdateUserInput {
  readonly id: string;
  readonly email?: string | null;
  readonly password?: string | null;
  /** Required when people change their own password (admins changing someone else's do not need it). */
  readonly currentPassword?: string | null;
  readonly role?: Role | null;
  readonly disabled?: boolean | null;
}

export interface CreateApiKeyInput {
  readonly name: string;
  /** At most the caller's role; the caller's role when omitted. */
  readonly role?: Role | null;
  readonly expiresAt?: Date | null;
}

function reject(violation: { field: string; message: string } | undefined): void {
  if (violation) throw badInput(violation.message, { field: violation.field });
}

/** Users and API keys. Admins manage users; everyone manages their own password and keys. */
export class UserService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly principals: PrincipalDirectory,
  ) {}

  async create(em: EntityManager, actor: Principal | null, input: CreateUserInput): Promise<UserView> {
    mayAdminister(actor, 'create users');
    return this.insert(em, input);
  }

  /** For the CLI and first start: no caller to check. */
  async insert(em: EntityManager, input: CreateUserInput): Promise<UserView> {
    const email = normalizeEmail(input.email);
    reject(checkEmail(email));
    reject(checkPassword(input.password));
    const user = em.create(User, { email, passwordHash: await hashPassword(input.password), role: input.role, createdAt: this.deps.now(), updatedAt: this.deps.now() });
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw new AppError('CONFLICT', `A user with email ${email} already exists.`, { field: 'email' });
      throw error;
    }
    return toUserView(user);
  }

  async update(em: EntityManager, actor: Principal | null, input: UpdateUserInput): Promise<UserView> {
    const me = signedIn(actor);
    const admin = isAdmin(me);
    if (!admin && input.id !== me.id) throw new AppError('FORBIDDEN', 'Only admins can change other users.', { role: me.role });
    if (!admin && (input.role != null || input.disabled != null)) throw new AppError('FORBIDDEN', 'Only admins can change roles or disable accounts.', { role: me.role });
    if (me.kind === 'api-key' && (input.password != null || input.email != null)) {
      throw new AppError('FORBIDDEN', 'An API key cannot change email or password; sign in as the user.', {});
    }
    const user = await em.findOne(User, { id: input.id });
    if (!user) throw new AppError('NOT_FOUND', `No user ${input.id}.`, { id: input.id });

    if (input.email != null) {
      const email = normalizeEmail(input.email);
      reject(checkEmail(email));
      user.email = email;
    }
    const passwordChanged = input.password != null;
    if (input.password != null) {
      reject(checkPassword(input.password));
      if (input.id === me.id && !admin) {
        if (!input.currentPassword || !(await verifyPassword(user.passwordHash, input.currentPassword))) {
          throw badInput('currentPassword is missing or wrong; it is needed to change your own password.', { field: 'currentPassword' });
        }
      }
      user.passwordHash = await hashPassword(input.password);
    }
    const demotesAdmin = user.role === 'admin' && ((input.role != null && input.role !== 'admin') || input.disabled === true);
    if (demotesAdmin && (await em.count(User, { role: 'admin', disabled: false, id: { $ne: user.id } })) === 0) {
      throw new AppError('CONFLICT', 'This is the last active admin; make another admin first.', { field: input.disabled ? 'disabled' : 'role' });
    }
    const ended = (input.disabled === true && !user.disabled) || passwordChanged;
    const roleChanged = input.role != null && input.role !== user.role;
    if (input.role != null) user.role = input.role;
    if (input.disabled != null) user.disabled = input.disabled;
    user.updatedAt = this.deps.now();
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw new AppError('CONFLICT', `A user with email ${user.email} already exists.`, { field: 'email' });
      throw error;
    }
    if (ended) {
      // Disabling signs the user out everywhere; a new password ends every other session.
      await em.getConnection().execute(
        `update auth_session set revoked_at = ?, revoked_reason = ? where user_id = ? and revoked_at is null and (?::uuid is null or id <> ?::uuid)`,
        [this.deps.now(), input.disabled ? 'disabled' : 'password', user.id, input.disabled ? null : me.sessionId, input.disabled ? null : me.sessionId],
      );
    }
    // A new role closes live connections too: clients reconnect and get the current one.
    await this.principals.announce({ userId: user.id, ended: ended || roleChanged });
    return toUserView(user);
  }

  async get(em: EntityManager, actor: Principal | null, id: string): Promise<UserView | null> {
    const me = signedIn(actor);
    if (!isAdmin(me) && id !== me.id) return null;
    const user = await em.findOne(User, { id });
    return user ? toUserView(user) : null;
  }

  async me(em: EntityManager, actor: Principal | null): Promise<UserView | null> {
    if (!actor) return null;
    const user = await em.findOne(User, { id: actor.id });
    return user ? toUserView(user) : null;
  }

  async list(em: EntityManager, actor: Principal | null, first: number, afterEmail: string | undefined) {
    mayAdminister(actor, 'list users');
    const rows = await em.find(User, afterEmail ? { email: { $gt: afterEmail } } : {}, { orderBy: { email: 'asc' }, limit: first + 1 });
    return { nodes: rows.slice(0, first).map(toUserView), hasMore: rows.length > first, totalCount: () => em.count(User, {}) };
  }

  async createApiKey(em: EntityManager, actor: Principal | null, input: CreateApiKeyInput): Promise<{ apiKey: ApiKeyView; key: string }> {
    const me = signedIn(actor);
    if (me.kind === 'api-key') throw new AppError('FORBIDDEN', 'API keys cannot create API keys; sign in as the user.', {});
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) throw badInput('name must be 1 to 100 characters.', { field: 'name' });
    const role = input.role ?? me.role;
    if (!canGrant(me.role, role)) throw new AppError('FORBIDDEN', `Your role (${me.role}) cannot make a key with role ${role}.`, { field: 'role' });
    if (input.expiresAt && input.expiresAt <= this.deps.now()) throw badInput('expiresAt must be in the future.', { field: 'expiresAt' });
    const key = randomSecret(API_KEY_PREFIX);
    const row = em.create(ApiKey, {
      user: me.id,
      name,
      prefix: key.slice(0, 12),
      keyHash: sha256(key),
      role,
      expiresAt: input.expiresAt ?? null,
      createdAt: this.deps.now(),
    });
    await em.flush();
    return { apiKey: toKeyView(row), key };
  }

  async revokeApiKey(em: EntityManager, actor: Principal | null, id: string): Promise<ApiKeyView> {
    const me = signedIn(actor);
    const row = await em.findOne(ApiKey, { id });
    if (!row || (row.user.id !== me.id && !isAdmin(me))) throw new AppError('NOT_FOUND', `No API key ${id}.`, { id });
    if (!row.revokedAt) {
      row.revokedAt = this.deps.now();
      await em.flush();
      await this.principals.announce({ apiKeyId: row.id, ended: true });
    }
    return toKeyView(row);
  }

  /** The caller's keys; admins may ask for anyone's. */
  async apiKeys(em: EntityManager, actor: Principal | null, userId: string | null | undefined): Promise<ApiKeyView[]> {
    const me = signedIn(actor);
    const owner = userId ?? me.id;
    if (owner !== me.id && !isAdmin(me)) throw new AppError('FORBIDDEN', 'Only admins can list other users’ API keys.', { role: me.role });
    const rows = await em.find(ApiKey, { user: owner }, { orderBy: { createdAt: 'desc' } });
    return rows.map(toKeyView);
  }
}

import { canCreate, canManage, canRead, isAdmin, type Owned } from '../domain/index.js';
import { AppError } from '../errors.js';
import type { Principal, PrincipalDirectory } from './auth/principals.js';

/**
 * The checks every use case starts with. Reads of things a caller may not see answer NOT_FOUND,
 * exactly as if they did not exist, so ids and names of private things do not leak.
 */
export function signedIn(actor: Principal | null): Principal {
  if (!actor) {
    throw new AppError(
      'UNAUTHENTICATED',
      'Sign in first: send "Authorization: Bearer <access token or API key>" (get a token with the login mutation).',
      { reason: 'NO_CREDENTIALS' },
    );
  }
  return actor;
}

export function mayCreate(actor: Principal | null): Principal {
  const a = signedIn(actor);
  if (!canCreate(a)) throw new AppError('FORBIDDEN', `Your role (${a.role}) can read but not create or change anything.`, { role: a.role });
  return a;
}

export function mayAdminister(actor: Principal | null, what: string): Principal {
  const a = signedIn(actor);
  if (!isAdmin(a)) throw new AppError('FORBIDDEN', `Only admins can ${what}.`, { role: a.role });
  return a;
}

/** `missing` is the very error a nonexistent one gets, so the answer cannot tell the two apart. */
export function mayRead<T extends Owned>(actor: Principal | null, resource: T | null | undefined, missing: () => AppError): T {
  const a = signedIn(actor);
  if (!resource || !canRead(a, resource)) throw missing();
  return resource;
}

export function mayManage<T extends Owned>(actor: Principal | null, resource: T | null | undefined, missing: () => AppError, what: string): T {
  const r = mayRead(actor, resource, missing);
  if (!canManage(actor, r)) throw new AppError('FORBIDDEN', `Only the owner of ${what} or an admin can change it.`, { role: actor!.role });
  return r;
}

/** Jobs and other things only their owner (and admins) may see. */
export const privateTo = (owner: string | null): Owned => ({ owner, visibility: 'PRIVATE' });

/** Null for admins (no restriction); otherwise what a caller may read, as a MikroORM filter. */
export function readableFilter(actor: Principal): Record<string, unknown> | null {
  if (isAdmin(actor)) return null;
  return { $or: [{ owner: actor.id }, { owner: null }, { visibility: 'SHARED' }] };
}

/**
 * A subscription's events, checked one by one: the caller must still be signed in (token not
 * expired, account not disabled, session not revoked) and still allowed to see the event. The
 * first event that fails ends the subscription; it is never delivered.
 */
export function authorizedEvents<T>(
  principals: PrincipalDirectory,
  actor: Principal,
  events: AsyncIterableIterator<T>,
  visible: (event: T) => boolean,
): AsyncIterableIterator<T> {
  const stop = async (): Promise<IteratorResult<T>> => {
    await events.return?.();
    return { done: true, value: undefined };
  };
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      const step = await events.next();
      if (step.done) return step;
      if (!visible(step.value) || !(principals.isActiveCached(actor) ?? (await principals.isActive(actor)))) return stop();
      return step;
    },
    return: stop,
    throw: async (error?: unknown) => {
      await events.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

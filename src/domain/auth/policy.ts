/**
 * Who may do what, as plain rules over plain data. Services call these before they load or
 * change anything; resolvers never decide access themselves.
 *
 * - viewers read: shared things, and nothing else;
 * - users also create, and manage (change, delete, run) what they own;
 * - admins do everything, including users and the audit log.
 */
export const ROLES = ['admin', 'user', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const VISIBILITIES = ['PRIVATE', 'SHARED'] as const;
/** PRIVATE: the owner and admins. SHARED: every signed-in user may read it. */
export type Visibility = (typeof VISIBILITIES)[number];

const RANK: Record<Role, number> = { viewer: 0, user: 1, admin: 2 };

export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/** The part of a principal the rules look at. */
export interface Actor {
  readonly id: string;
  readonly role: Role;
}

/** Anything with an owner. `owner` null means the platform made it (readable by all, managed by admins). */
export interface Owned {
  readonly owner: string | null;
  readonly visibility: Visibility;
}

export const isAdmin = (actor: Actor | null): boolean => actor?.role === 'admin';

/** Creating datasets, models, runs, battles and jobs. */
export const canCreate = (actor: Actor | null): boolean => actor !== null && RANK[actor.role] >= RANK.user;

export function canRead(actor: Actor | null, resource: Owned): boolean {
  if (!actor) return false;
  return actor.role === 'admin' || resource.owner === actor.id || resource.owner === null || resource.visibility === 'SHARED';
}

/** Changing, deleting or running something: its owner (if not demoted to viewer) or an admin. */
export function canManage(actor: Actor | null, resource: Owned): boolean {
  if (!actor) return false;
  return actor.role === 'admin' || (actor.role === 'user' && resource.owner !== null && resource.owner === actor.id);
}

/** An API key may carry the role of the user who makes it, or a lesser one. */
export const canGrant = (granter: Role, role: Role): boolean => RANK[role] <= RANK[granter];

/** The lesser of two roles: an API key never does more than its owner may do today. */
export const weakerRole = (a: Role, b: Role): Role => (RANK[a] <= RANK[b] ? a : b);

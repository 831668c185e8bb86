export { ROLES, VISIBILITIES, canCreate, canGrant, canManage, canRead, isAdmin, isRole, weakerRole } from './policy.js';
export type { Actor, Owned, Role, Visibility } from './policy.js';
export { EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, checkEmail, checkPassword, normalizeEmail } from './credentials.js';

import type { RuleViolation } from '../registry.js';

/** OWASP ASVS 2.1: at least 12 characters, no composition rules; a bound keeps hashing cheap. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;
export const EMAIL_MAX_LENGTH = 254;

/** A simple, permissive shape check: one @, something on both sides, a dot in the domain, no spaces. */
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Emails compare case-insensitively, as people type them. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export function checkEmail(email: string): RuleViolation | undefined {
  if (email.length === 0) return { field: 'email', message: 'email must not be empty.' };
  if (email.length > EMAIL_MAX_LENGTH) return { field: 'email', message: `email is ${email.length} characters; the limit is ${EMAIL_MAX_LENGTH}.` };
  if (!EMAIL.test(email)) return { field: 'email', message: `"${email}" is not an email address.` };
  return undefined;
}

export function checkPassword(password: string): RuleViolation | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    return { field: 'password', message: `password is ${length} characters; use at least ${PASSWORD_MIN_LENGTH} (a phrase of several words is easiest).` };
  }
  if (length > PASSWORD_MAX_LENGTH) return { field: 'password', message: `password is ${length} characters; the limit is ${PASSWORD_MAX_LENGTH}.` };
  return undefined;
}

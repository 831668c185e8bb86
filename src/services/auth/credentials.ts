import { Algorithm, hash, verify } from '@node-rs/argon2';
import { createHash, randomBytes } from 'node:crypto';

/**
 * argon2id with OWASP's recommended floor (19 MiB, 2 passes, 1 lane; Password Storage Cheat
 * Sheet). The parameters are stored in each hash, so raising them later re-hashes nobody's
 * password by force and verifies old ones as they are.
 */
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2);

/**
 * Verifying against a real hash when the account does not exist makes a wrong email cost as much
 * as a wrong password, so response times do not tell which emails have accounts.
 */
let decoy: Promise<string> | undefined;

export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (stored === null) {
    await verify(await (decoy ??= hashPassword(randomBytes(16).toString('hex'))), password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}

/** Refresh tokens, sign-in links and API keys are 256 random bits: SHA-256 is enough at rest. */
export const sha256 = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export const randomSecret = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`;

export const API_KEY_PREFIX = 'arena_';
export const REFRESH_TOKEN_PREFIX = 'rt_';

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new bearer token: `vf_` + 43 URL-safe characters (256 random bits). Shown once, stored hashed. */
export function generateToken(): string {
  return `vf_${randomBytes(32).toString('base64url')}`;
}

/** The stored form of a token: hex sha256. Tokens are random, so a fast hash is enough. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The first characters of a token, kept to let users recognise it in a list. */
export function tokenPrefix(token: string): string {
  return token.slice(0, 10);
}

/** Constant-time string comparison (through hashes, so lengths don't leak). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashToken(a), 'hex'), Buffer.from(hashToken(b), 'hex'));
}

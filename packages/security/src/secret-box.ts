import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * Encrypts secrets at rest (vCenter passwords, repository credentials) with AES-256-GCM. The key
 * is derived from VAULTFLOW_SECRET_KEY with HKDF-SHA256; every value gets its own random IV, and
 * the GCM tag makes any tampering fail loudly on decrypt.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error('the secret key must be at least 32 characters');
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'vaultflow', 'secret-box-v1', 32));
  }

  /** Returns `v1:<iv>:<tag>:<ciphertext>` (base64url parts). */
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join(':');
  }

  /** Throws when the value was not made by encrypt() under the same key, or was altered. */
  decrypt(sealed: string): string {
    const [version, iv, tag, ct] = sealed.split(':');
    if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}

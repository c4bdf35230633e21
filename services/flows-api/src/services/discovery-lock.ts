import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A held lock. */
export interface Lease {
  /** Gives the lock up (only if still ours). Never throws. */
  release(): Promise<void>;
}

/** Mutual exclusion across flows-api replicas; specs use an in-memory one. */
export interface Locks {
  /** The lock `name`, or undefined when someone else holds it. Held until released (or the holder dies). */
  tryAcquire(name: string): Promise<Lease | undefined>;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Redis locks under the hub's prefix (`<prefix>:lock:<name>`): SET NX with a token and a TTL that
 * the holder renews while it works, so a crashed holder frees the lock within one TTL and a slow
 * one keeps it. Release and renewal only touch the key while it still holds our token.
 */
export class RedisLocks implements Locks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = 60_000,
  ) {}

  async tryAcquire(name: string): Promise<Lease | undefined> {
    const key = `${this.prefix}:lock:${name}`;
    const token = randomBytes(16).toString('hex');
    if ((await this.redis.set(key, token, 'PX', this.ttlMs, 'NX')) !== 'OK') return undefined;
    const renew = setInterval(() => {
      this.redis.eval(RENEW, 1, key, token, String(this.ttlMs)).catch(() => undefined);
    }, Math.max(1000, Math.floor(this.ttlMs / 3)));
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      },
    };
  }
}

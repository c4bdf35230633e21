import type { Redis } from 'ioredis';
import { AppError } from '@vaultflow/errors';

/**
 * Counts login attempts in Redis (shared by every flows-api replica): per address and user, and
 * per address alone. Keys live under the hub's prefix and expire with their window.
 */
export class LoginRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limits = { perUser: 10, perAddress: 50, windowSeconds: 300 },
  ) {}

  /** Counts this attempt; throws 429 with a Retry-After hint when over a limit. */
  async hit(address: string, username: string): Promise<void> {
    const w = this.limits.windowSeconds;
    const keys = [`${this.prefix}:ratelimit:login:a:${address}`, `${this.prefix}:ratelimit:login:u:${address}:${username.toLowerCase().slice(0, 256)}`];
    const res = await this.redis.multi().incr(keys[0]!).expire(keys[0]!, w, 'NX').incr(keys[1]!).expire(keys[1]!, w, 'NX').ttl(keys[1]!).exec();
    const perAddress = Number(res?.[0]?.[1] ?? 0);
    const perUser = Number(res?.[2]?.[1] ?? 0);
    const ttl = Math.max(1, Number(res?.[4]?.[1] ?? w));
    if (perUser > this.limits.perUser || perAddress > this.limits.perAddress) {
      const err = new AppError('too_many_requests', 'TOO_MANY_LOGIN_ATTEMPTS', `Too many login attempts: try again in ${ttl} seconds`);
      err.retryAfter = ttl;
      throw err;
    }
  }

  /** A successful login clears the per-user counter. */
  async reset(address: string, username: string): Promise<void> {
    await this.redis.del(`${this.prefix}:ratelimit:login:u:${address}:${username.toLowerCase().slice(0, 256)}`);
  }
}

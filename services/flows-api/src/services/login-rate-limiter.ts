import type { Redis } from 'ioredis';
import { AppError } from '@vaultflow/errors';

/** Takes one back from each counter in KEYS, deleting a counter that reaches zero. */
const GIVE_BACK = `for _, k in ipairs(KEYS) do if redis.call('DECR', k) <= 0 then redis.call('DEL', k) end end return 0`;

/**
 * Counts failed logins in Redis (shared by every flows-api replica): per address and user, and per
 * address alone. Successful logins do not count, so many users behind one NAT address can log in.
 * Keys live under the hub's prefix and expire with their window (which starts at the first failure).
 *
 * An attempt is counted as it is admitted, before the password is checked, and given back when it
 * succeeds: parallel guesses therefore see each other, where a check made before any of them failed
 * would let them all through.
 */
export class LoginRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limits = { perUser: 10, perAddress: 50, windowSeconds: 300 },
  ) {}

  private keys(address: string, username: string): { address: string; user: string } {
    return {
      address: `${this.prefix}:ratelimit:login:a:${address}`,
      user: `${this.prefix}:ratelimit:login:u:${address}:${username.toLowerCase().slice(0, 256)}`,
    };
  }

  /**
   * Call before checking the password. Throws 429 TOO_MANY_LOGIN_ATTEMPTS with a Retry-After hint
   * when the address, or this user from this address, already failed as often as the window allows;
   * otherwise the attempt counts as a failure until `succeeded` is called for it.
   */
  async admit(address: string, username: string): Promise<void> {
    const w = this.limits.windowSeconds;
    const k = this.keys(address, username);
    const res = await this.redis.multi().incr(k.address).expire(k.address, w, 'NX').incr(k.user).expire(k.user, w, 'NX').ttl(k.address).ttl(k.user).exec();
    const perAddress = Number(res?.[0]?.[1] ?? 0);
    const perUser = Number(res?.[2]?.[1] ?? 0);
    const userOver = perUser > this.limits.perUser;
    if (!userOver && perAddress <= this.limits.perAddress) return;
    // Refused before any password was checked: not a failure.
    await this.redis.eval(GIVE_BACK, 2, k.address, k.user);
    const ttl = Math.max(1, Number(res?.[userOver ? 5 : 4]?.[1] ?? w));
    const err = new AppError('too_many_requests', 'TOO_MANY_LOGIN_ATTEMPTS', `Too many failed login attempts: try again in ${ttl} seconds`);
    err.retryAfter = ttl;
    throw err;
  }

  /** The admitted attempt succeeded: it does not count, and the user's failures from this address are forgotten. */
  async succeeded(address: string, username: string): Promise<void> {
    const k = this.keys(address, username);
    await this.redis.del(k.user);
    await this.redis.eval(GIVE_BACK, 1, k.address);
  }
}

import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection for BullMQ (which needs maxRetriesPerRequest: null on blocking connections).
 * The URL may carry a password and a database number (redis://:pw@host:6379/2).
 */
export function createRedis(url: URL | string, opts: RedisOptions = {}): Redis {
  return new Redis(String(url), { maxRetriesPerRequest: null, enableReadyCheck: true, ...opts });
}

/** PING with a timeout: true when Redis answers in time. */
export async function redisReachable(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  try {
    const pong = await Promise.race([redis.ping(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs))]);
    return pong === 'PONG';
  } catch {
    return false;
  }
}

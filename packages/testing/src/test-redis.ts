import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.VAULTFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A Redis key prefix unique to one test run (BullMQ prefixes every queue key with it). */
export function uniqueRedisPrefix(tag = ''): string {
  return `vftest:${tag ? tag + ':' : ''}${randomBytes(5).toString('hex')}`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS). Returns how many were removed. */
export async function deleteRedisPrefix(prefix: string, url = TEST_REDIS_URL): Promise<number> {
  if (!prefix.startsWith('vftest:')) throw new Error(`Refusing to delete ${prefix}: not a test prefix`);
  const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true });
  await redis.connect();
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}

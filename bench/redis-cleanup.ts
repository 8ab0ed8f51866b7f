import type { Redis } from 'ioredis';

/** Deletes every key under `${prefix}:` (the store's and BullMQ's), and nothing else. */
export async function deletePrefixedKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5_000);
    if (keys.length > 0) deleted += await redis.unlink(...keys);
    cursor = nextCursor;
  } while (cursor !== '0');
  return deleted;
}

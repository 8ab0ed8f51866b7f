import { Redis, type Cluster, type RedisOptions } from 'ioredis';

/**
 * Where every test finds its Redis: REDIS_URL, else the local default. Tests share it and keep apart by key
 * prefix (each file uses random prefixes and deletes only its own keys), so jest may run files in parallel.
 */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A client of the test Redis. */
export function testRedis(options: RedisOptions = {}): Redis {
  return new Redis(REDIS_URL, options);
}

/** Every key matching `pattern` (SCAN, so a large test population does not block the shared Redis). */
export async function scanKeys(redis: Redis | Cluster, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await (redis as Redis).scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

/** Removes a test's own keys: everything under `<prefix>:`. */
export async function deleteTestKeys(redis: Redis | Cluster, prefix: string): Promise<void> {
  const keys = await scanKeys(redis, `${prefix}:*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.unlink(...keys.slice(i, i + 1000));
}

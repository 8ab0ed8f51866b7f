import { Redis, type RedisOptions } from 'ioredis';

/**
 * Where every test finds its Redis: REDIS_URL, else the local default. Tests share it and keep apart by key
 * prefix (each file uses random prefixes and deletes only its own keys), so jest may run files in parallel.
 */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A client of the test Redis. */
export function testRedis(options: RedisOptions = {}): Redis {
  return new Redis(REDIS_URL, options);
}

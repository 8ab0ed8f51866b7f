import { parseArgs } from 'node:util';
import { redactedUrl } from '../store/redis';
import type { Config } from '../config';
import { ResyncQueue } from '../queue/resync-queue';
import { createRedis, readyWithin } from '../store/redis';
import { runResyncCommand } from './resync';

/** A BullMQ connection waits for Redis forever; the command does not. */
const REDIS_TIMEOUT_MS = 10_000;

/**
 * `coder-scim-bridge resync [--dry-run] [--resource Users/<id>]`: queues the resync for the bridge's workers
 * (they must be running) and follows it to the end.
 */
export async function runResyncCli(config: Config, args: string[], print: (line: string) => void): Promise<number> {
  let options: { 'dry-run'?: boolean; resource?: string };
  try {
    options = parseArgs({ args, options: { 'dry-run': { type: 'boolean' }, resource: { type: 'string' } } }).values;
  } catch (err) {
    print(`resync: ${(err as Error).message}`);
    return 2;
  }
  const redis = createRedis(config.redis, 'bullmq');
  redis.on('error', () => undefined);
  if (!(await readyWithin(redis, REDIS_TIMEOUT_MS))) {
    print(`resync: Redis at ${redactedUrl(config.redis.url)} did not answer within ${REDIS_TIMEOUT_MS / 1000} s`);
    redis.disconnect();
    return 1;
  }
  const queue = new ResyncQueue(redis, config.redis.prefix);
  try {
    return await runResyncCommand({ dryRun: options['dry-run'] ?? false, ...(options.resource ? { resource: options.resource } : {}), queue, print });
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

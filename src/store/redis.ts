import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config';
import type { Logger } from '../log';

/**
 * The roles a process's Redis connections play, each with its own behaviour while Redis is away (see
 * purposeOptions). A bridge opens one connection per role, in openRedisConnections, and nowhere else:
 * - 'store' fails fast. It carries what answers a request or a probe: the desired store, the admin API's view of
 *   the queues and of the last resync, readiness, the pending sweep and the Coder pacer.
 * - 'bullmq' waits through a reconnect. It carries the reconcile producer (which races its calls with a timeout
 *   of its own), the BullMQ workers, the reconcilers' claim index and the resync worker's records.
 * - The blocking role: every BullMQ Worker opens its own blocking connection (BZPOPMIN) as a duplicate of its
 *   'bullmq' connection, so a waiting worker never holds up another command.
 */
export type RedisPurpose = 'store' | 'bullmq';

export interface RedisConnections {
  store: Redis | Cluster;
  queue: Redis | Cluster;
  /** Ends both connections (in-flight commands are answered first). */
  quit(): Promise<void>;
}

/** A client on the HTTP path gives up on a command after this long rather than hold a SCIM request. */
export const STORE_COMMAND_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 5_000;

/** Credentials, database and TLS from REDIS_URL; they apply to sentinel-managed and cluster nodes too. */
export function connectionOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db ? Number(db) : undefined,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * How each purpose behaves while Redis is away:
 * - 'store' (the HTTP path) fails fast: no offline queue (a command issued while disconnected is rejected at
 *   once instead of waiting for a reconnect), one retry, and a command timeout for a connection that is up but
 *   silent (a partition without RST). A SCIM request then gets a 503 within seconds; the IdP retries it.
 *   Auto-pipelining sends the commands that concurrent requests and reconciles issue in one tick as one write.
 * - 'bullmq' waits: BullMQ requires `maxRetriesPerRequest: null`, and its workers' blocking commands must
 *   survive a reconnect. Callers that must not hang (the producer) race BullMQ calls with their own timeout.
 */
function purposeOptions(purpose: RedisPurpose): RedisOptions {
  const reconnect = { retryStrategy: (attempt: number) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS) };
  if (purpose === 'bullmq') return { ...reconnect, maxRetriesPerRequest: null };
  return { ...reconnect, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: STORE_COMMAND_TIMEOUT_MS, enableAutoPipelining: true };
}

/** An ioredis client for REDIS_URL, or through Sentinel (`sentinels`), or to a Cluster (`clusterNodes`). */
export function createRedis(cfg: Config['redis'], purpose: RedisPurpose, logger?: Logger): Redis | Cluster {
  const { host, port, ...node } = connectionOptions(cfg.url);
  const behaviour = purposeOptions(purpose);
  const connectionName = `coder-scim-bridge-${purpose}`;
  let client: Redis | Cluster;
  if (cfg.clusterNodes) {
    const { retryStrategy, enableOfflineQueue, maxRetriesPerRequest, commandTimeout } = behaviour;
    client = new Cluster(cfg.clusterNodes, {
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue,
      redisOptions: { ...node, maxRetriesPerRequest, commandTimeout, connectionName },
    });
  } else if (cfg.sentinels) {
    client = new Redis({ ...node, ...behaviour, connectionName, sentinels: cfg.sentinels, name: cfg.sentinelName, enableTLSForSentinelMode: Boolean(node.tls) });
  } else {
    client = new Redis({ host, port, ...node, ...behaviour, connectionName });
  }
  // An 'error' listener keeps ioredis from printing unhandled-error noise; the reconnect backoff bounds the rate.
  client.on('error', (err: Error) => logger?.warn({ event: 'redis_error', purpose, err: err.message }, 'redis connection error'));
  return client;
}

/** The process's connections, one per role (see RedisPurpose). */
export function openRedisConnections(cfg: Config['redis'], logger: Logger): RedisConnections {
  const store = createRedis(cfg, 'store', logger);
  const queue = createRedis(cfg, 'bullmq', logger);
  return {
    store,
    queue,
    quit: async () => {
      await Promise.all([store.quit().catch(() => undefined), queue.quit().catch(() => undefined)]);
    },
  };
}

/** Resolves true once the client is connected, false when `timeoutMs` passed first. */
export function readyWithin(client: Redis | Cluster, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Redis URL without its password, for log lines. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid url)';
  }
}

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { CoderClient, type CoderClientOptions } from './coder/client';
import { CoderHealth } from './coder/health';
import { RedisPacer, type Pacer } from './coder/pacer';
import type { Config } from './config';
import { createAdminRouter } from './http/admin';
import { createApp, createWorkerApp, tokensOf } from './http/app';
import { createHttpServer } from './http/server';
import type { Logger } from './log';
import { createMetrics, type Metrics } from './metrics';
import { RECONCILE_QUEUE } from './queue/jobs';
import { ReconcileProducer } from './queue/producer';
import { createQueueMetricsRefresher } from './queue/queue-metrics';
import { ResyncQueue } from './queue/resync-queue';
import { LastResyncRecord } from './queue/resync-record';
import { createReadiness } from './runtime/readiness';
import { watchSecretFiles } from './runtime/secret-files';
import { startWorkerRuntime, type WorkerRuntime } from './runtime/worker-runtime';
import { openRedisConnections, readyWithin, redactedUrl } from './store/redis';
import { RedisStore } from './store/redis-store';
import { AccessPolicyStatusRecord } from './store/access-policy-status';

/**
 * The composition root: the only place that wires http/, scim/, store/, queue/, reconcile/ and coder/ together
 * (the reconcile side through runtime/worker-runtime.ts, which starts only once Coder answers).
 * `serve` answers SCIM and admin requests; `worker` reconciles; `all` does both in one process.
 */

export type BridgeMode = 'all' | 'serve' | 'worker';

export interface Bridge {
  /** The HTTP origin: SCIM and admin in `serve` and `all`; only /healthz, /readyz and /metrics in `worker`. */
  origin: string;
  metrics: Metrics;
  /** SIGHUP: a process with a worker re-reads ACCESS_POLICY_FILE; `serve` applies no policy, so reloads nothing. */
  reloadPolicy(): Promise<void>;
  /** Graceful stop: no new requests, in-flight ones and active reconciles finish. */
  close(): Promise<void>;
}

/** A Redis answer to readiness is reused this long: a probe storm costs Redis one PING a second. */
const READINESS_CACHE_MS = 1_000;
/** Coder is asked whether it answers (and accepts the token) only after this long without any call to it. */
const CODER_PROBE_MS = 30_000;
/** /admin/status and /metrics ask Coder themselves when nothing was heard from it for this long. */
const ADMIN_CODER_FRESH_MS = 5_000;
const REDIS_WAIT_LOG_MS = 5_000;

/** Waits for the first connection, logging one line every few seconds instead of a stack trace per attempt. */
async function waitForRedis(client: Redis | Cluster, config: Config, logger: Logger): Promise<void> {
  const started = Date.now();
  while (!(await readyWithin(client, REDIS_WAIT_LOG_MS))) {
    logger.warn(
      { event: 'redis_unreachable', redis: redactedUrl(config.redis.url), waitedMs: Date.now() - started },
      'Redis is not reachable yet: retrying',
    );
  }
}

/** One Coder budget shared through Redis by every replica; none when Coder does not limit this token. */
function createPacer(config: Config, redis: Redis | Cluster): Pacer | undefined {
  // A bypassing owner is not limited, so pacing would only slow it down.
  if (!config.coder.rateLimitPerMinute || config.coder.bypassRateLimit) return undefined;
  return new RedisPacer({ redis, prefix: config.redis.prefix, limitPerMinute: config.coder.rateLimitPerMinute, windowMs: config.coder.rateLimitWindowMs });
}

export function createCoderClient(config: Config, metrics: Metrics, logger: Logger, overrides: Partial<CoderClientOptions> = {}): CoderClient {
  return new CoderClient({
    url: config.coder.url,
    token: config.coder.token,
    timeoutMs: config.coder.timeoutMs,
    bypassRateLimit: config.coder.bypassRateLimit,
    logger,
    ...overrides,
    onCall: (call) => {
      metrics.coderRequests.inc({ route: call.route, status: String(call.status) });
      metrics.coderDuration.observe({ route: call.route }, call.durationMs / 1000);
      overrides.onCall?.(call);
    },
  });
}

function listen(config: Config, app: ReturnType<typeof createApp>, logger: Logger): Promise<Server> {
  const server = createHttpServer(config, app, logger);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve(server));
  });
}

export async function startBridge(config: Config, mode: BridgeMode, logger: Logger): Promise<Bridge> {
  const prefix = config.redis.prefix;
  const metrics = createMetrics();
  const redis = openRedisConnections(config.redis, logger);
  const store = new RedisStore(redis.store, prefix);
  const producer = new ReconcileProducer(redis.queue, prefix, { logger });
  const closers: (() => Promise<unknown>)[] = [];

  // Tokens from *_FILE are re-read when the file changes: every use below reads the current one.
  let coderToken = config.coder.token;
  const tokens = tokensOf(config);
  const stopWatching = watchSecretFiles({
    initial: config,
    files: config.reloadableFiles ?? [],
    reload: config.reload ?? (() => config),
    apply: (next) => {
      coderToken = next.coder.token;
      tokens.scim.replace(next.scim.tokens);
      if (next.adminToken) tokens.admin?.replace([next.adminToken]);
    },
    logger,
  });

  const coderHealth: CoderHealth = new CoderHealth({
    probe: () => coder.me(),
    idleProbeMs: CODER_PROBE_MS,
    onChange: ({ up, authFailing }) => {
      metrics.coderUp.set(up ? 1 : 0);
      metrics.coderAuthFailing.set(authFailing ? 1 : 0);
    },
  });
  const coderOptions: Partial<CoderClientOptions> = {
    token: () => coderToken,
    onCall: (call) => coderHealth.observe(call),
    pacer: createPacer(config, redis.store),
  };
  const coder = createCoderClient(config, metrics, logger, coderOptions);
  let workerRuntime: WorkerRuntime | undefined;
  const readiness = createReadiness({
    mode,
    pingRedis: () => redis.store.ping(),
    worker: { preflightDone: () => workerRuntime?.preflightDone() ?? false, coderAuthFailing: () => coderHealth.snapshot().authFailing },
    cacheMs: READINESS_CACHE_MS,
  });

  let app: ReturnType<typeof createApp>;
  if (mode === 'all' || mode === 'serve') {
    const reconcileQueue = new Queue(RECONCILE_QUEUE, { connection: redis.store, prefix });
    // Without a listener BullMQ prints a Redis outage to stderr, outside the structured log.
    reconcileQueue.on('error', (err) => logger.warn({ event: 'reconcile_queue_error', err: err.message }, 'reconcile queue error'));
    const resyncQueue = new ResyncQueue(redis.store, prefix, logger);
    const lastResync = new LastResyncRecord(redis.store, prefix);
    // The workers check Coder's IdP sync settings; `serve` shows what they recorded.
    const accessPolicy = new AccessPolicyStatusRecord(redis.store, prefix);
    const refreshQueueMetrics = createQueueMetricsRefresher({ metrics, reconcileQueue, store, lastResync, accessPolicy });
    const refreshMetrics = async () => {
      // The scrape does not wait for Coder: coder_up shows what is known, and a stale answer is refreshed for the next one.
      void coderHealth.current(ADMIN_CODER_FRESH_MS);
      await refreshQueueMetrics();
    };
    const admin = tokens.admin
      ? createAdminRouter({ store, resyncQueue, reconcileQueue, lastResync, accessPolicy, coder: () => coderHealth.current(ADMIN_CODER_FRESH_MS), logger })
      : undefined;
    app = createApp({ config, store, producer, logger, metrics, admin, readiness, refreshMetrics, tokens });
    closers.push(() => Promise.all([reconcileQueue.close(), resyncQueue.close()]));
  } else {
    // Workers listen too, for the Kubernetes probes and the Prometheus scrape.
    app = createWorkerApp({ config, logger, metrics, readiness, tokens });
  }

  // Listen before anything else answers: /healthz must answer at once, whatever Redis and Coder do.
  const server = await listen(config, app, logger);
  const { port } = server.address() as AddressInfo;
  const origin = `${config.tls ? 'https' : 'http'}://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  const serving = mode === 'worker' ? 'health and metrics' : 'SCIM';
  logger.info({ event: 'listening', host: config.host, port, tls: Boolean(config.tls), mode }, `serving ${serving} at ${origin}`);

  await waitForRedis(redis.store, config, logger);
  logger.info({ event: 'redis_connected', redis: redactedUrl(config.redis.url), prefix }, 'connected to Redis');
  if (mode === 'all' || mode === 'worker') {
    // A worker keeps its view of Coder current (it calls Coder anyway); `serve` asks only when someone looks.
    coderHealth.start();
    const preflightCoder = createCoderClient(config, metrics, logger, { ...coderOptions, retries: 0 });
    workerRuntime = startWorkerRuntime({ config, redis, store, producer, coder, preflightCoder, coderHealth, metrics, logger });
    closers.push(async () => {
      await workerRuntime?.close();
      await preflightCoder.close();
    });
  }

  // Stop the HTTP server first: in-flight requests finish, idle keep-alive sockets close.
  closers.unshift(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  );

  return {
    origin,
    metrics,
    reloadPolicy: async () => {
      if (workerRuntime) return workerRuntime.reloadPolicy('sighup');
      logger.info({ event: 'access_policy_reload_skipped', trigger: 'sighup' }, 'SIGHUP: `serve` applies no access policy, nothing to reload');
    },
    close: async () => {
      stopWatching();
      coderHealth.stop();
      for (const close of closers) await close();
      await producer.close();
      await coder.close();
      await redis.quit();
    },
  };
}

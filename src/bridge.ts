import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, type Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { CoderClient } from './coder/client';
import { RedisPacer, type Pacer } from './coder/pacer';
import type { Organization } from './coder/types';
import type { Config } from './config';
import { createAdminRouter } from './http/admin';
import { createApp, createWorkerApp } from './http/app';
import type { Readiness } from './http/health';
import { createHttpServer } from './http/server';
import type { Logger } from './log';
import { createMetrics, type Metrics } from './metrics';
import { RECONCILE_QUEUE } from './queue/jobs';
import { ReconcileProducer } from './queue/producer';
import { createQueueMetricsRefresher } from './queue/queue-metrics';
import { ResyncQueue } from './queue/resync-queue';
import { LastResyncRecord } from './queue/resync-record';
import { startResyncWorker } from './queue/resync-worker';
import { startReconcileWorker } from './queue/worker';
import { tokenUserIdOf } from './reconcile/adoption';
import { GroupReconciler } from './reconcile/group-reconciler';
import { groupsLicensed } from './reconcile/licence';
import type { PlanContext } from './reconcile/plan';
import type { ReconcileResult } from './reconcile/reconcile-resource';
import { UserReconciler } from './reconcile/user-reconciler';
import { ClaimIndex } from './store/claims';
import { createRedis } from './store/redis';
import { RedisStore } from './store/redis-store';

/**
 * The composition root: the only place that wires http/, scim/, store/, queue/, reconcile/ and coder/ together.
 * `serve` answers SCIM and admin requests; `worker` reconciles; `all` does both in one process.
 */

export type BridgeMode = 'all' | 'serve' | 'worker';

export interface Bridge {
  /** The HTTP origin: SCIM and admin in `serve` and `all`; only /healthz, /readyz and /metrics in `worker`. */
  origin: string;
  metrics: Metrics;
  /** Graceful stop: no new requests, in-flight ones and active reconciles finish. */
  close(): Promise<void>;
}

export class OrganizationNotFoundError extends Error {
  readonly code = 'organization_not_found';
}

/** How often resources written but never reconciled (a crash between the write and the enqueue) are re-queued. */
const PENDING_SWEEP_MS = 60_000;
/** A readiness answer is reused this long, so a probe every second does not cost Coder a call every second. */
const READINESS_CACHE_MS = 5_000;
const REDIS_WAIT_LOG_MS = 5_000;

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

/** Waits for the first connection, logging one line every few seconds instead of a stack trace per attempt. */
async function waitForRedis(client: Redis | Cluster, config: Config, logger: Logger): Promise<void> {
  const started = Date.now();
  while (client.status !== 'ready') {
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), REDIS_WAIT_LOG_MS);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (await ready) break;
    logger.warn(
      { event: 'redis_unreachable', redis: redactedUrl(config.redis.url), waitedMs: Date.now() - started },
      'Redis is not reachable yet: retrying',
    );
  }
}

export async function resolveOrganization(coder: CoderClient, wanted: string | undefined): Promise<Organization> {
  const organizations = await coder.organizations();
  const match = wanted
    ? organizations.find((org) => org.id === wanted || org.name.toLowerCase() === wanted.toLowerCase())
    : organizations.find((org) => org.is_default);
  if (!match) {
    const known = organizations.map((org) => org.name).join(', ') || 'none visible to this token';
    throw new OrganizationNotFoundError(
      wanted ? `CODER_ORGANIZATION "${wanted}" not found in Coder (known: ${known})` : `Coder has no default organization (known: ${known})`,
    );
  }
  return match;
}

/** One Coder budget shared through Redis by every replica; none when Coder does not limit this token. */
function createPacer(config: Config, redis: Redis | Cluster): Pacer | undefined {
  // A bypassing owner is not limited, so pacing would only slow it down.
  if (!config.coder.rateLimitPerMinute || config.coder.bypassRateLimit) return undefined;
  return new RedisPacer({ redis, prefix: config.redis.prefix, limitPerMinute: config.coder.rateLimitPerMinute });
}

export function createCoderClient(config: Config, metrics: Metrics, logger: Logger, pacer?: Pacer): CoderClient {
  return new CoderClient({
    url: config.coder.url,
    token: config.coder.token,
    timeoutMs: config.coder.timeoutMs,
    bypassRateLimit: config.coder.bypassRateLimit,
    pacer,
    logger,
    onCall: ({ route, status, durationMs }) => {
      metrics.coderRequests.inc({ route, status: String(status) });
      metrics.coderDuration.observe({ route }, durationMs / 1000);
    },
  });
}

function readinessProbe(storeRedis: Redis | Cluster, coder: CoderClient): () => Promise<Readiness> {
  let cached: { at: number; value: Readiness } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < READINESS_CACHE_MS) return cached.value;
    let value: Readiness;
    try {
      await storeRedis.ping();
      try {
        await coder.me();
        value = { ok: true };
      } catch {
        value = { ok: false, failing: 'coder' };
      }
    } catch {
      value = { ok: false, failing: 'redis' };
    }
    cached = { at: Date.now(), value };
    return value;
  };
}

function listen(config: Config, app: ReturnType<typeof createApp>, logger: Logger): Promise<Server> {
  const server = createHttpServer(config, app, logger);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve(server));
  });
}

function recordReconcileMetrics(worker: Worker, metrics: Metrics): void {
  worker.on('completed', (job, result: ReconcileResult) => {
    metrics.reconciles.inc({ kind: job.data.kind, outcome: result.outcome === 'failed' ? 'failed_permanent' : result.outcome });
    if (job.processedOn && job.finishedOn) metrics.reconcileDuration.observe({ kind: job.data.kind }, (job.finishedOn - job.processedOn) / 1000);
  });
  worker.on('failed', (job) => {
    if (job) metrics.reconciles.inc({ kind: job.data.kind, outcome: 'retry' });
  });
}

export async function startBridge(config: Config, mode: BridgeMode, logger: Logger): Promise<Bridge> {
  const prefix = config.redis.prefix;
  const metrics = createMetrics();
  const storeRedis = createRedis(config.redis, 'store', logger);
  const queueRedis = createRedis(config.redis, 'bullmq', logger);
  await waitForRedis(storeRedis, config, logger);
  logger.info({ event: 'redis_connected', redis: redactedUrl(config.redis.url), prefix }, 'connected to Redis');

  const store = new RedisStore(storeRedis, prefix);
  const producer = new ReconcileProducer(queueRedis, prefix, { logger });
  const coder = createCoderClient(config, metrics, logger, createPacer(config, storeRedis));
  const closers: (() => Promise<unknown>)[] = [];
  const readiness = readinessProbe(storeRedis, coder);
  let app: ReturnType<typeof createApp>;

  if (mode === 'all' || mode === 'worker') {
    const organization = await resolveOrganization(coder, config.coder.organization);
    const ctx: PlanContext = { deletePolicy: config.userDeletePolicy, loginType: config.coder.loginType, orgId: organization.id };
    const licensed = await groupsLicensed(coder, logger);
    const claims = new ClaimIndex(queueRedis, prefix);
    const adoption = { tokenUserId: tokenUserIdOf(coder), groups: config.adoptGroups };
    const deps = { store, claims, queue: producer, coder, ctx, adoption };
    const worker = startReconcileWorker({
      connection: queueRedis,
      prefix,
      concurrency: config.workerConcurrency,
      lockDurationMs: config.workerLockMs,
      reconcilers: { user: new UserReconciler(deps), group: new GroupReconciler({ ...deps, groupsLicensed: licensed }) },
      logger,
    });
    recordReconcileMetrics(worker, metrics);
    const resyncWorker = await startResyncWorker({
      connection: queueRedis,
      prefix,
      resync: { store, coder, producer, plan: ctx },
      metrics,
      logger,
    });
    const resyncQueue = new ResyncQueue(queueRedis, prefix, logger);
    await resyncQueue.schedulePeriodic(config.resyncIntervalMs);

    const sweepPending = async (): Promise<void> => {
      try {
        const pending = await store.pending();
        await producer.enqueueMany(pending.map(({ kind, id }) => ({ kind, id })));
        if (pending.length > 0) logger.info({ event: 'pending_requeued', count: pending.length }, 're-queued resources written but not yet reconciled');
      } catch (err) {
        logger.warn({ event: 'pending_sweep_failed', err: (err as Error).message }, 'could not re-queue pending resources');
      }
    };
    await sweepPending();
    const sweeper = setInterval(() => void sweepPending(), PENDING_SWEEP_MS);
    sweeper.unref();
    logger.info(
      { event: 'worker_started', organization: organization.name, concurrency: config.workerConcurrency, groupsLicensed: licensed, deletePolicy: config.userDeletePolicy },
      'reconcile worker started',
    );
    closers.push(async () => {
      clearInterval(sweeper);
      await Promise.all([worker.close(), resyncWorker.close()]);
      await resyncQueue.close();
    });
  }

  if (mode === 'all' || mode === 'serve') {
    const reconcileQueue = new Queue(RECONCILE_QUEUE, { connection: storeRedis, prefix });
    // Without a listener BullMQ prints a Redis outage to stderr, outside the structured log.
    reconcileQueue.on('error', (err) => logger.warn({ event: 'reconcile_queue_error', err: err.message }, 'reconcile queue error'));
    const resyncQueue = new ResyncQueue(storeRedis, prefix, logger);
    const lastResync = new LastResyncRecord(storeRedis, prefix);
    const refreshMetrics = createQueueMetricsRefresher({ metrics, reconcileQueue, store, lastResync });
    const admin = config.adminToken ? createAdminRouter({ store, resyncQueue, reconcileQueue, lastResync, logger }) : undefined;
    app = createApp({ config, store, producer, logger, metrics, admin, readiness, refreshMetrics });
    closers.push(() => Promise.all([reconcileQueue.close(), resyncQueue.close()]));
  } else {
    // Workers listen too, for the Kubernetes probes and the Prometheus scrape.
    app = createWorkerApp({ config, logger, metrics, readiness });
  }

  const server = await listen(config, app, logger);
  const { port } = server.address() as AddressInfo;
  const origin = `${config.tls ? 'https' : 'http'}://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  const serving = mode === 'worker' ? 'health and metrics' : 'SCIM';
  logger.info({ event: 'listening', host: config.host, port, tls: Boolean(config.tls), mode }, `serving ${serving} at ${origin}`);
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
    close: async () => {
      for (const close of closers) await close();
      await producer.close();
      await coder.close();
      await Promise.all([storeRedis.quit().catch(() => undefined), queueRedis.quit().catch(() => undefined)]);
    },
  };
}

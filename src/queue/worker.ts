import { performance } from 'node:perf_hooks';
import { Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { isRateLimited } from '../coder/errors';
import { backoffDelay, type BackoffOptions } from '../coder/retry';
import { DEFAULT_WORKER_LOCK_MS } from '../config';
import type { Logger } from '../log';
import type { Reconciler } from '../reconcile/reconcile-resource';
import type { ResourceKind } from '../store/types';
import { RECONCILE_QUEUE, type ReconcileJobData } from './jobs';

/**
 * Retries of a failed reconcile: 1 s, 2 s, 4 s... capped at 30 s, with full jitter. The cap is how long work can
 * lag behind Coder's return after an outage (a 5-minute cap left a 30 s outage unhealed for minutes); once
 * the attempts run out the resource is still pending, and the pending sweep queues it again.
 */
export const RECONCILE_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 30_000 };
/** Coder sends Retry-After: 60 on a 429; without one, wait a whole rate-limit window. */
const DEFAULT_RATE_LIMIT_PAUSE_MS = 60_000;
/**
 * BullMQ honours `worker.rateLimit()` only when the worker has a limiter. This one is far above any real
 * throughput, so it never throttles by itself: it exists so that a 429 can pause the whole queue.
 */
const LIMITER = { max: 100_000, duration: 1_000 };

export interface ReconcileWorkerOptions {
  connection: Redis | Cluster;
  /** The Redis prefix: the queue lives under it, as the producer's does. */
  prefix: string;
  concurrency: number;
  reconcilers: Record<ResourceKind, Reconciler>;
  logger: Logger;
  backoff?: BackoffOptions;
  /** How long a crashed worker's jobs stay locked before another worker takes them (WORKER_LOCK_DURATION). */
  lockDurationMs?: number;
}

/**
 * The reconcile worker: one job is "reconcile this resource". A 429 pauses the whole queue for Retry-After
 * without spending an attempt; any other thrown error is retried with the 'reconcile' backoff; permanent
 * failures are recorded by the reconcilers, which then complete the job.
 */
export function startReconcileWorker(options: ReconcileWorkerOptions): Worker<ReconcileJobData> {
  const { reconcilers, logger } = options;
  const backoff = options.backoff ?? RECONCILE_BACKOFF;
  const lockMs = options.lockDurationMs ?? DEFAULT_WORKER_LOCK_MS;

  const worker: Worker<ReconcileJobData> = new Worker<ReconcileJobData>(
    RECONCILE_QUEUE,
    async (job: Job<ReconcileJobData>) => {
      const { kind, id, force } = job.data;
      const started = performance.now();
      const fields = { event: 'reconcile', jobId: job.id, kind, id, attempt: job.attemptsMade + 1 };
      const durationMs = () => Math.round(performance.now() - started);
      try {
        const result = await reconcilers[kind].reconcile(id, { force });
        const level = result.outcome === 'failed' ? 'warn' : 'info';
        logger[level]({ ...fields, outcome: result.outcome, operations: result.operations, error: result.error, durationMs: durationMs() }, `reconcile ${result.outcome}`);
        return result;
      } catch (err) {
        if (isRateLimited(err)) {
          const pauseMs = err.retryAfterMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS;
          logger.warn({ ...fields, outcome: 'rate_limited', pauseMs, durationMs: durationMs() }, 'Coder rate limit: reconcile queue paused');
          await worker.rateLimit(pauseMs);
          throw Worker.RateLimitError();
        }
        logger.warn({ ...fields, outcome: 'retry', err, durationMs: durationMs() }, 'reconcile failed: will retry');
        throw err;
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      limiter: LIMITER,
      // A killed worker's jobs return to the queue once their lock expires and a stalled check sees it:
      // BullMQ's defaults (30 s each) would hold a crashed replica's work for up to a minute.
      lockDuration: lockMs,
      // Stalled jobs are looked for as often as the lock is renewed.
      stalledInterval: lockMs / 2,
      // Jobs name their backoff type ('reconcile', see producer.ts); this is its strategy.
      settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade - 1, backoff) },
    },
  );
  worker.on('error', (err) => logger.error({ event: 'reconcile_worker_error', err }, 'reconcile worker error'));
  return worker;
}

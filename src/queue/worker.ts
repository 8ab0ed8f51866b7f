import { performance } from 'node:perf_hooks';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { backoffDelay, type BackoffOptions } from '../model/backoff';
import { DEFAULT_WORKER_LOCK_MS } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { Reconciler } from '../reconcile/reconcile-resource';
import type { ResourceKind } from '../model/resource';
import type { SyncError } from '../model/sync';
import { RECONCILE_QUEUE, type ReconcileJobData } from './jobs';
import { outcomeLabel, runReconcile, type ReconcileOutcome } from './reconcile-outcome';

/**
 * Delay before a reconcile runs again after a transient failure: 1 s, 2 s, 4 s... capped at 30 s, with full
 * jitter. The cap is how long work can lag behind Coder's return after an outage. A requeue spends no attempt,
 * so a resource keeps being retried through an outage of any length instead of running out of attempts.
 */
export const RECONCILE_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 30_000 };
/**
 * While Coder refuses the bridge's token, the queue pauses 2 s, 4 s... up to one minute between tries: a
 * rotated token is picked up within a minute, and a revoked one costs Coder one call a minute.
 */
export const AUTH_PAUSE_BACKOFF: BackoffOptions = { baseMs: 2_000, capMs: 60_000 };
/**
 * When Coder answers nothing at all (UNREACHABLE_IN_A_ROW reconciles in a row met no answer), the whole queue pauses
 * 1 s, 2 s, 4 s, then 5 s at a time, and the jobs wait without spending an attempt: an outage costs Coder a few
 * calls per pause instead of every job's own retries, and work resumes within 5 s of Coder's return instead of
 * after each job's grown backoff.
 */
export const OUTAGE_PAUSE_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 5_000 };
/** Fewer in a row is a dropped connection or two, retried job by job as any transient failure. */
const UNREACHABLE_IN_A_ROW = 3;
/** Coder sends Retry-After: 60 on a 429; without one, wait a whole rate-limit window. */
const DEFAULT_RATE_LIMIT_PAUSE_MS = 60_000;
/**
 * BullMQ honours `worker.rateLimit()` only when the worker has a limiter. This one is far above any real
 * throughput, so it never throttles by itself: it exists so that a 429 or a refused token can pause the queue.
 */
const LIMITER = { max: 100_000, duration: 1_000 };

export interface ReconcileWorkerOptions {
  connection: Redis | Cluster;
  /** The Redis prefix: the queue lives under it, as the producer's does. */
  prefix: string;
  concurrency: number;
  reconcilers: Record<ResourceKind, Reconciler>;
  logger: Logger;
  metrics?: Metrics;
  backoff?: BackoffOptions;
  /** How long a crashed worker's jobs stay locked before another worker takes them (WORKER_LOCK_DURATION). */
  lockDurationMs?: number;
  authPause?: BackoffOptions;
  outagePause?: BackoffOptions;
  /** Told of every refused token (for the coder_auth_failing figures). */
  onCoderAuthFailure?: (err: unknown) => void;
  /** Told of every permanent failure (an IdP-sync refusal makes the runtime check Coder's sync settings again). */
  onPermanentFailure?: (error: SyncError) => void;
}

/** Consecutive pauses of the queue (a refused token, Coder not answering) grow; Coder answering resets them. */
class QueuePause {
  private pauses = 0;

  private until = 0;

  constructor(private readonly backoff: BackoffOptions) {}

  /** The pause to start now, or undefined when one is already running (jobs in flight meeting the same 401). */
  next(): number | undefined {
    if (Date.now() < this.until) return undefined;
    const pauseMs = Math.min(this.backoff.capMs, this.backoff.baseMs * 2 ** this.pauses);
    this.pauses++;
    this.until = Date.now() + pauseMs;
    return pauseMs;
  }

  reset(): void {
    this.pauses = 0;
  }
}

/**
 * The reconcile worker: one job is "reconcile this resource". settle() is the one place where a reconcile's
 * outcome becomes a BullMQ transition, a metric and a log line.
 */
export function startReconcileWorker(options: ReconcileWorkerOptions): Worker<ReconcileJobData> {
  const { reconcilers, logger, metrics } = options;
  const backoff = options.backoff ?? RECONCILE_BACKOFF;
  const lockMs = options.lockDurationMs ?? DEFAULT_WORKER_LOCK_MS;
  const authPause = new QueuePause(options.authPause ?? AUTH_PAUSE_BACKOFF);
  const outagePause = new QueuePause(options.outagePause ?? OUTAGE_PAUSE_BACKOFF);
  let unreachableInARow = 0;

  async function settle(job: Job<ReconcileJobData>, token: string | undefined, outcome: ReconcileOutcome, durationMs: number): Promise<unknown> {
    const { kind, id } = job.data;
    const label = outcomeLabel(outcome);
    const fields = { event: 'reconcile', jobId: job.id, kind, id, attempt: job.attemptsStarted, outcome: label, durationMs };
    metrics?.reconciles.inc({ kind, outcome: label });
    metrics?.reconcileDuration.observe({ kind }, durationMs / 1000);
    if (outcome.type !== 'requeue_after' || !outcome.unreachable) {
      // Coder answered (whatever it said).
      unreachableInARow = 0;
      outagePause.reset();
    }
    if (outcome.type !== 'requeue_after') {
      authPause.reset();
      const { result } = outcome;
      // The log line names the reconciler's own outcome ('failed', not the metric's 'failed_permanent').
      const level = outcome.type === 'terminal' ? 'warn' : 'info';
      if (outcome.type === 'terminal' && result.error) options.onPermanentFailure?.(result.error);
      logger[level]({ ...fields, outcome: result.outcome, operations: result.operations, error: result.error }, `reconcile ${result.outcome}`);
      return result;
    }
    switch (outcome.reason) {
      case 'rate_limited': {
        const pauseMs = outcome.delayMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS;
        logger.warn({ ...fields, pauseMs }, 'Coder rate limit: reconcile queue paused');
        await worker.rateLimit(pauseMs);
        throw Worker.RateLimitError();
      }
      case 'coder_auth': {
        options.onCoderAuthFailure?.(outcome.error);
        const pauseMs = authPause.next();
        if (pauseMs !== undefined) {
          logger.error(
            { ...fields, event: 'coder_auth_failing', pauseMs, err: (outcome.error as Error).message },
            'Coder refuses the bridge token: reconciles paused until it works (check CODER_SESSION_TOKEN and its roles)',
          );
          await worker.rateLimit(pauseMs);
        }
        // Back to waiting, no attempt spent: it runs when the pause ends.
        throw Worker.RateLimitError();
      }
      case 'retry': {
        if (outcome.unreachable && ++unreachableInARow >= UNREACHABLE_IN_A_ROW) {
          const pauseMs = outagePause.next();
          if (pauseMs !== undefined) {
            logger.warn(
              { ...fields, event: 'coder_unreachable', pauseMs, unreachableInARow, err: (outcome.error as Error).message },
              'Coder does not answer: reconciles paused (jobs wait, spending no attempt)',
            );
            await worker.rateLimit(pauseMs);
          }
          throw Worker.RateLimitError();
        }
        const delayMs = backoffDelay(job.attemptsStarted - 1, backoff);
        logger.warn({ ...fields, delayMs, err: outcome.error }, 'reconcile failed: will retry');
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError();
      }
    }
  }

  const worker: Worker<ReconcileJobData> = new Worker<ReconcileJobData>(
    RECONCILE_QUEUE,
    async (job: Job<ReconcileJobData>, token?: string) => {
      const { kind, id, force } = job.data;
      const started = performance.now();
      const outcome = await runReconcile(() => reconcilers[kind].reconcile(id, { force }));
      return settle(job, token, outcome, Math.round(performance.now() - started));
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
      // Only for a failure of settle() itself (Redis gone while requeueing): jobs name this backoff type.
      settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade - 1, backoff) },
    },
  );
  worker.on('error', (err) => logger.error({ event: 'reconcile_worker_error', err }, 'reconcile worker error'));
  return worker;
}

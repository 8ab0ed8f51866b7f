import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log';
import type { PendingChanges } from '../store/pending-changes';
import type { ReconcileRequest } from './producer';

/**
 * Re-queues resources written but never queued (a crash between the store write and the enqueue). It reads only
 * the changes since the last sweep, and one worker per interval runs it: a lock that expires with the interval
 * decides which. A queued resource is deduplicated by the queue, so re-queueing one costs nothing extra.
 */

export interface PendingSweepOptions {
  changes: PendingChanges;
  /** Holds the sweep lock (a client that fails fast). */
  redis: Redis | Cluster;
  prefix: string;
  producer: { enqueueMany(items: ReconcileRequest[]): Promise<void> };
  logger: Logger;
  intervalMs?: number;
  /** A change younger than this is still being queued by the request that made it. */
  graceMs?: number;
}

export const PENDING_SWEEP_MS = 60_000;
const GRACE_MS = 10_000;
const PAGE = 1_000;

export class PendingSweep {
  private timer?: NodeJS.Timeout;

  private readonly intervalMs: number;

  private readonly lockKey: string;

  constructor(private readonly options: PendingSweepOptions) {
    this.intervalMs = options.intervalMs ?? PENDING_SWEEP_MS;
    this.lockKey = `${options.prefix}:pending:sweep-lock`;
  }

  /** One sweep if no other worker swept in this interval; the number of resources re-queued, else undefined. */
  async sweepOnce(): Promise<number | undefined> {
    const { changes, producer } = this.options;
    // Never released: it expires with the interval, so any number of workers sweep once per interval together.
    const taken = await this.options.redis.set(this.lockKey, '1', 'PX', Math.max(1, this.intervalMs - 100), 'NX');
    if (taken !== 'OK') return undefined;
    const until = (await changes.now()) - (this.options.graceMs ?? GRACE_MS);
    let requeued = 0;
    for (let offset = 0; ; offset += PAGE) {
      const page = await changes.stillPending(until, offset, PAGE);
      await producer.enqueueMany(page.resources);
      requeued += page.resources.length;
      if (page.scanned < PAGE) break;
    }
    await changes.forget(until);
    return requeued;
  }

  start(): void {
    this.timer = setInterval(() => void this.sweepLogged(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sweepLogged(): Promise<void> {
    try {
      const requeued = await this.sweepOnce();
      if (requeued) this.options.logger.info({ event: 'pending_requeued', count: requeued }, 're-queued resources written but not yet queued');
    } catch (err) {
      this.options.logger.warn({ event: 'pending_sweep_failed', err: (err as Error).message }, 'could not re-queue pending resources');
    }
  }
}

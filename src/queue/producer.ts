import { Queue, type JobsOptions } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log';
import { StoreError } from '../store/types';
import { type ResourceKind } from '../model/resource';
import { RECONCILE_QUEUE, reconcileJobId, type ReconcileJobData } from './jobs';

/** The worker registers a backoff strategy under this name: capped exponential with jitter. */
export const RECONCILE_BACKOFF = 'reconcile';

export const RECONCILE_JOB_OPTIONS = {
  attempts: 50,
  backoff: { type: RECONCILE_BACKOFF },
  removeOnComplete: true,
  // Failed jobs stay a week so that an operator can see why a resource never reached Coder.
  removeOnFail: { age: 7 * 24 * 3600 },
} as const satisfies JobsOptions;

/** A BullMQ connection waits for Redis forever; a SCIM request must not. */
export const ENQUEUE_TIMEOUT_MS = 5_000;

export interface ReconcileRequest {
  kind: ResourceKind;
  id: string;
  force?: boolean;
}

/**
 * Queues "reconcile this resource" jobs. One deduplication id per resource, with keepLastIfActive: a burst of
 * changes leaves one waiting job, and a change during a running reconcile queues exactly one more after it.
 */
export class ReconcileProducer {
  private readonly queue: Queue<ReconcileJobData, unknown, ResourceKind>;

  private readonly timeoutMs: number;

  constructor(connection: Redis | Cluster, prefix: string, options: { timeoutMs?: number; logger?: Logger } = {}) {
    this.timeoutMs = options.timeoutMs ?? ENQUEUE_TIMEOUT_MS;
    this.queue = new Queue(RECONCILE_QUEUE, { connection, prefix });
    // Without a listener an 'error' event (Redis gone) would throw; enqueue reports the outage to its caller.
    this.queue.on('error', (err) => options.logger?.warn({ event: 'reconcile_queue_error', err: err.message }, 'reconcile queue error'));
  }

  enqueue(kind: ResourceKind, id: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.enqueueMany([{ kind, id, ...opts }]);
  }

  async enqueueMany(items: ReconcileRequest[]): Promise<void> {
    if (items.length === 0) return;
    const jobs = items.map(({ kind, id, force }) => ({ name: kind, data: jobData(kind, id, force), opts: jobOptions(kind, id) }));
    await this.withTimeout(this.queue.addBulk(jobs));
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  private async withTimeout<T>(operation: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreError('unavailable', `enqueue timed out after ${this.timeoutMs}ms: redis unavailable`)), this.timeoutMs);
    });
    try {
      return await Promise.race([operation, timeout]);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError('unavailable', `enqueue failed: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

function jobData(kind: ResourceKind, id: string, force?: boolean): ReconcileJobData {
  return force ? { kind, id, force } : { kind, id };
}

function jobOptions(kind: ResourceKind, id: string): JobsOptions {
  return { ...RECONCILE_JOB_OPTIONS, deduplication: { id: reconcileJobId(kind, id), keepLastIfActive: true } };
}

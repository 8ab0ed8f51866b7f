import { Queue, type JobsOptions, type JobState } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log';
import { parseResourceRef } from '../model/resource-ref';
import type { ResyncProgress, ResyncReport } from '../reconcile/resync';

export const RESYNC_QUEUE = 'resync';
export const PERIODIC_RESYNC_SCHEDULER = 'periodic-resync';
const JOB_NAME = 'resync';

export interface ResyncJobData {
  dryRun: boolean;
  /** "Users/<id>" or "Groups/<id>"; absent for a full resync. */
  resource?: string;
}

export const RESYNC_JOB_OPTIONS = {
  // A resync is itself the retry of everything: a failed one is reported, and the next one starts fresh.
  attempts: 1,
  removeOnComplete: { count: 50 },
  removeOnFail: { count: 50 },
} as const satisfies JobsOptions;

export interface ResyncJobView {
  id: string;
  state: JobState | 'unknown';
  request: ResyncJobData;
  progress: ResyncProgress | null;
  result: ResyncReport | null;
  error?: string;
  createdAt: number;
  finishedAt?: number;
}

/**
 * One deduplication id per kind of request: while a full resync waits or runs, asking again returns its id
 * instead of queueing another. Dry runs are their own kind, so a dry run never answers for a real one.
 */
export function resyncDeduplicationId(data: ResyncJobData): string {
  const mode = data.dryRun ? 'dry-run' : 'apply';
  if (data.resource === undefined) return `full-${mode}`;
  const ref = parseResourceRef(data.resource);
  return ref ? `${ref.kind}-${ref.id}-${mode}` : `invalid-${mode}`;
}

/**
 * The resync queue: separate from the reconcile queue (same prefix) so that a long full resync never holds
 * up reconciles, and so that its jobs keep their results for the admin API. Pass a connection that fails fast
 * (the store's, not a BullMQ worker's) when the caller is an HTTP request.
 */
export class ResyncQueue {
  readonly queue: Queue<ResyncJobData, ResyncReport>;

  constructor(connection: Redis | Cluster, prefix: string, logger?: Logger) {
    this.queue = new Queue(RESYNC_QUEUE, { connection, prefix });
    this.queue.on('error', (err) => logger?.warn({ event: 'resync_queue_error', err: err.message }, 'resync queue error'));
  }

  /** Queues a resync, or returns the id of the equal one already waiting or running. */
  async request(data: ResyncJobData): Promise<{ id: string }> {
    const request: ResyncJobData = data.resource === undefined ? { dryRun: data.dryRun } : { dryRun: data.dryRun, resource: data.resource };
    const job = await this.queue.add(JOB_NAME, request, { ...RESYNC_JOB_OPTIONS, deduplication: { id: resyncDeduplicationId(request) } });
    return { id: String(job.id) };
  }

  async view(id: string): Promise<ResyncJobView | null> {
    // State first: a job read before it finished and seen "completed" afterwards would have no result.
    const state = await this.queue.getJobState(id);
    const job = await this.queue.getJob(id);
    if (!job) return null;
    const progress = typeof job.progress === 'object' && job.progress !== null ? (job.progress as unknown as ResyncProgress) : null;
    return {
      id: String(job.id),
      state,
      request: job.data,
      progress,
      result: job.returnvalue ?? null,
      ...(job.failedReason ? { error: job.failedReason } : {}),
      createdAt: job.timestamp,
      ...(job.finishedOn ? { finishedAt: job.finishedOn } : {}),
    };
  }

  /**
   * The periodic full resync. A job scheduler is stored in Redis under one id, so every replica calling this
   * leaves exactly one schedule; an interval of 0 removes it.
   */
  async schedulePeriodic(intervalMs: number): Promise<void> {
    if (intervalMs <= 0) {
      await this.queue.removeJobScheduler(PERIODIC_RESYNC_SCHEDULER);
      return;
    }
    await this.queue.upsertJobScheduler(
      PERIODIC_RESYNC_SCHEDULER,
      { every: intervalMs },
      { name: JOB_NAME, data: { dryRun: false }, opts: RESYNC_JOB_OPTIONS },
    );
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

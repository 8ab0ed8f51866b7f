import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { ResyncError, runResync, type ResyncOptions, type ResyncReport } from '../reconcile/resync';
import { LastResyncRecord, summarise, type LastResync } from './resync-record';
import { RESYNC_QUEUE, type ResyncJobData } from './resync-queue';

export interface ResyncWorkerOptions {
  /** A BullMQ connection (`maxRetriesPerRequest: null`). */
  connection: Redis | Cluster;
  prefix: string;
  /** Everything runResync needs but the request itself. */
  resync: Omit<ResyncOptions, 'dryRun' | 'resource' | 'onProgress' | 'logger'>;
  metrics?: Metrics;
  logger: Logger;
  /** Runs before each full resync, dry or not (the IdP sync settings check); it must not throw. */
  beforeRun?: () => Promise<void>;
}

/**
 * Runs resync jobs one at a time across every replica: the queue's global concurrency is 1, so two full
 * resyncs never compare Coder against the store at once, whatever the number of worker processes.
 */
export async function startResyncWorker(options: ResyncWorkerOptions): Promise<Worker<ResyncJobData, ResyncReport>> {
  const { connection, prefix, metrics, logger } = options;
  const record = new LastResyncRecord(connection, prefix);
  const queue = new Queue(RESYNC_QUEUE, { connection, prefix });
  try {
    await queue.setGlobalConcurrency(1);
  } finally {
    await queue.close();
  }

  /** Only full, applied resyncs say how in sync the deployment is; dry runs and one-resource runs do not. */
  const isFullRun = (data: ResyncJobData) => data.resource === undefined && !data.dryRun;
  const remember = async (outcome: Omit<LastResync, 'lastSuccessAt'>): Promise<void> => {
    try {
      const written = await record.write(outcome);
      if (written.lastSuccessAt !== undefined) metrics?.lastResyncSuccess.set(written.lastSuccessAt / 1000);
    } catch (err) {
      logger.warn({ event: 'resync_record_failed', err: (err as Error).message }, 'could not record the resync outcome');
    }
  };

  const processor = async (job: Job<ResyncJobData, ResyncReport>): Promise<ResyncReport> => {
    const jobId = String(job.id);
    if (job.data.resource === undefined) await options.beforeRun?.();
    try {
      const report = await runResync({
        ...options.resync,
        dryRun: job.data.dryRun,
        resource: job.data.resource,
        logger: logger.child({ resyncJobId: jobId }),
        onProgress: (progress) => job.updateProgress(progress),
      });
      if (isFullRun(job.data)) await remember({ at: report.finishedAt, jobId, ok: report.failed === 0, result: summarise(report) });
      return report;
    } catch (err) {
      logger.error({ event: 'resync_failed', jobId, err: (err as Error).message }, 'resync failed');
      if (isFullRun(job.data)) await remember({ at: Date.now(), jobId, ok: false, error: (err as Error).message });
      // A bad resource reference will not get better by retrying.
      if (err instanceof ResyncError) throw new UnrecoverableError(err.message);
      throw err;
    }
  };

  const worker = new Worker<ResyncJobData, ResyncReport>(RESYNC_QUEUE, processor, { connection, prefix, concurrency: 1 });
  worker.on('error', (err) => logger.warn({ event: 'resync_worker_error', err: err.message }, 'resync worker error'));
  return worker;
}

import type { Queue } from 'bullmq';
import type { Metrics } from '../metrics';
import { findPermanentFailures } from '../store/failures';
import type { AccessPolicyStatusRecord } from '../store/access-policy-status';
import type { DesiredStore } from '../store/types';
import type { LastResyncRecord } from './resync-record';

/** The reconcile-queue states exported as `queue_jobs{state}`. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

/** Counting permanent failures reads the whole failure index (O(failures)): at most once per this interval, however often Prometheus scrapes. */
export const FAILURE_SCAN_INTERVAL_MS = 60_000;

export interface QueueMetricsDeps {
  metrics: Metrics;
  reconcileQueue: Pick<Queue, 'getJobCounts'>;
  store: DesiredStore;
  lastResync?: Pick<LastResyncRecord, 'read'>;
  /** Where the workers record their check of Coder's IdP sync settings. */
  accessPolicy?: Pick<AccessPolicyStatusRecord, 'read'>;
  failureScanIntervalMs?: number;
  now?: () => number;
}

/**
 * Returns a function that brings the queue, failure, last-resync and IdP-sync-overlap gauges up to date: call it before rendering
 * /metrics. Any replica can serve /metrics, so the figures come from Redis, not from this process's memory.
 */
export function createQueueMetricsRefresher(deps: QueueMetricsDeps): () => Promise<void> {
  const { metrics, reconcileQueue, store, lastResync, accessPolicy } = deps;
  const interval = deps.failureScanIntervalMs ?? FAILURE_SCAN_INTERVAL_MS;
  const now = deps.now ?? Date.now;
  let lastScanAt: number | undefined;

  const refreshFailures = async (): Promise<void> => {
    if (lastScanAt !== undefined && now() - lastScanAt < interval) return;
    const { counts } = await findPermanentFailures(store, 0);
    metrics.permanentFailures.set({ kind: 'user' }, counts.user);
    metrics.permanentFailures.set({ kind: 'group' }, counts.group);
    lastScanAt = now();
  };

  const refreshQueue = async (): Promise<void> => {
    const counts = await reconcileQueue.getJobCounts(...QUEUE_STATES);
    for (const state of QUEUE_STATES) metrics.queueJobs.set({ state }, counts[state] ?? 0);
  };

  const refreshLastResync = async (): Promise<void> => {
    const last = await lastResync?.read();
    if (last?.lastSuccessAt !== undefined) metrics.lastResyncSuccess.set(last.lastSuccessAt / 1000);
  };

  const refreshIdpSync = async (): Promise<void> => {
    const idpSync = (await accessPolicy?.read())?.idpSync;
    if (idpSync) metrics.idpSyncOverlaps.set(idpSync.warnings.length);
  };

  return async () => {
    await Promise.all([refreshQueue(), refreshFailures(), refreshLastResync(), refreshIdpSync()]);
  };
}

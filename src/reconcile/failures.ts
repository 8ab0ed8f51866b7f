import type { DesiredStore, ResourceKind, SyncError } from '../store/types';
import { resourceTypeOf, type ResourceType } from './resource-ref';

export interface PermanentFailure {
  type: ResourceType;
  id: string;
  error: SyncError;
}

export interface FailureSummary {
  counts: Record<ResourceKind, number>;
  /** The first `limit` failures, users first. */
  failures: PermanentFailure[];
}

const READ_BATCH = 200;

/**
 * Resources whose last reconcile failed permanently. Reads every sync status (in pipelined batches): the
 * store keeps no failure index, so callers on a timer (metrics) should not call this more often than needed.
 */
export async function findPermanentFailures(store: DesiredStore, limit = 100): Promise<FailureSummary> {
  const summary: FailureSummary = { counts: { user: 0, group: 0 }, failures: [] };
  for (const kind of ['user', 'group'] as const) {
    const ids = (await store.syncIds(kind)).sort();
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      const statuses = await Promise.all(batch.map((id) => store.getSync(kind, id)));
      statuses.forEach((status, j) => {
        const error = status?.lastError;
        if (!error?.permanent) return;
        summary.counts[kind] += 1;
        if (summary.failures.length < limit) summary.failures.push({ type: resourceTypeOf(kind), id: batch[j], error });
      });
    }
  }
  return summary;
}

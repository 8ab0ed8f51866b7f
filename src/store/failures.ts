import type { DesiredStore } from './types';
import type { SyncError } from '../model/sync';
import type { ResourceKind } from '../model/resource';
import { resourceTypeOf, type ResourceType } from '../model/resource-ref';

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

/** Resources whose last reconcile failed permanently, from the store's failure index: O(failures), not O(managed). */
export async function findPermanentFailures(store: DesiredStore, limit = 100): Promise<FailureSummary> {
  const { total, items } = await store.permanentFailures(limit);
  return { counts: total, failures: items.map(({ kind, id, status }) => ({ type: resourceTypeOf(kind), id, error: status.lastError })) };
}

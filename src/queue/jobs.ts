import type { ResourceKind } from '../model/resource';

/** The reconcile queue carries identities, never diffs: the worker reads the latest desired state when it runs. */
export const RECONCILE_QUEUE = 'reconcile';

export interface ReconcileJobData {
  kind: ResourceKind;
  id: string;
  /** Set by a resync: retry even a permanently failed resource. */
  force?: boolean;
}

/** BullMQ ids may not contain ':'. One id per resource makes a burst of changes cost one reconcile. */
export function reconcileJobId(kind: ResourceKind, id: string): string {
  return `${kind}-${id}`;
}

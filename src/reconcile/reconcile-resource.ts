import type { AccessPolicyHolder } from '../policy/holder';
import type { ClaimIndex } from '../store/claims';
import type { DesiredStore } from '../store/types';
import type { SyncError, SyncStatus } from '../model/sync';
import type { ResourceKind, StoredResource } from '../model/resource';
import { syncErrorOf } from './errors';
import type { OrgDirectory } from './org-directory';

/**
 * The controller-runtime shaped loop shared by the user and group reconcilers: read the latest desired
 * resource and what was last applied, converge Coder, record the outcome, clear the pending mark.
 * Safe to run any number of times: it only ever acts on the difference.
 */

export interface ReconcileOptions {
  /** A resync: retry even a resource whose failure for this version was permanent. */
  force?: boolean;
}

export type ReconcileOutcome = 'applied' | 'unchanged' | 'skipped' | 'failed';

export interface ReconcileResult {
  outcome: ReconcileOutcome;
  version: number;
  /** The Coder operations performed, in order. */
  operations: string[];
  error?: SyncError;
}

export interface Reconciler {
  reconcile(id: string, options?: ReconcileOptions): Promise<ReconcileResult>;
}

/** Where follow-up reconciles go (the queue producer). */
export interface FollowUpQueue {
  enqueue(kind: ResourceKind, id: string): Promise<unknown>;
}

/** The access policy and the organizations it names (absent: no ACCESS_POLICY_FILE, the reconcilers grant nothing). */
export interface AccessContext {
  policy: AccessPolicyHolder;
  orgs: OrgDirectory;
}

export interface ReconcileDeps {
  store: DesiredStore;
  claims: ClaimIndex;
  queue: FollowUpQueue;
  access?: AccessContext;
  now?: () => number;
}

/** A deleted resource has no later version, so its tombstone's reconcile is the last word. */
export const TOMBSTONE_VERSION = Number.MAX_SAFE_INTEGER;

export interface FollowUp {
  kind: ResourceKind;
  id: string;
  changedMember?: string;
}

/** What a converge step has done so far: recorded even when a later call fails, so no write is repeated blindly. */
export interface Progress<Applied> {
  applied: Applied | undefined;
  notes: string[];
  operations: string[];
  /** `changedMember`: this user, now in Coder, is marked as a changed member of the group before it is queued. */
  followUps: FollowUp[];
  /** Follow-ups that must be read after the sync status is written (see UserReconciler.requeueGroupsIfLanded). */
  followUpsOnceRecorded?: () => Promise<FollowUp[]>;
  /**
   * Coder ids this run created. A new id can have no other holder, so its claim needs no round trip of its
   * own: it is written atomically with the sync status that names it.
   */
  createdCoderIds: string[];
  /**
   * Writes `applied` as it now is, before calls whose answer a crash could lose (grants: see recordBeforeCalls).
   * Absent where nothing records (unit tests of a step).
   */
  checkpoint?: () => Promise<void>;
}

export interface ResourceSteps<Applied> {
  kind: ResourceKind;
  load(id: string): Promise<StoredResource | null>;
  converge(id: string, stored: StoredResource | null, progress: Progress<Applied>): Promise<void>;
}

export async function reconcileResource<Applied extends { coderId: string }>(
  id: string,
  options: ReconcileOptions,
  steps: ResourceSteps<Applied>,
  deps: ReconcileDeps,
): Promise<ReconcileResult> {
  const { store, claims } = deps;
  const { kind } = steps;
  const now = deps.now ?? Date.now;
  const [stored, sync] = await Promise.all([steps.load(id), store.getSync<Applied>(kind, id)]);
  const version = stored?.version ?? TOMBSTONE_VERSION;
  const done = async (result: Omit<ReconcileResult, 'version'>): Promise<ReconcileResult> => {
    await store.clearPending(kind, id, version);
    return { ...result, version };
  };

  if (!stored && !sync) return done({ outcome: 'unchanged', operations: [] });
  const lastError = sync?.lastError;
  if (!options.force && lastError?.permanent && lastError.version === version) return done({ outcome: 'skipped', operations: [], error: lastError });

  const before = sync?.applied;
  const progress: Progress<Applied> = { applied: before, notes: [], operations: [], followUps: [], createdCoderIds: [] };
  progress.checkpoint = () => store.setSync<Applied>(kind, id, { ...sync, applied: progress.applied }, progress.createdCoderIds);
  try {
    await steps.converge(id, stored, progress);
  } catch (err) {
    const error = syncErrorOf(err, version, now());
    await store.setSync<Applied>(kind, id, { ...sync, applied: progress.applied, lastError: error }, progress.createdCoderIds);
    if (!error.permanent) throw err;
    return done({ outcome: 'failed', operations: progress.operations, error });
  }

  const after = progress.applied;
  if (before && before.coderId !== after?.coderId) await claims.release(kind, before.coderId, id);
  let recorded: Promise<void>;
  if (!after) {
    recorded = store.deleteSync(kind, id);
  } else {
    const status: SyncStatus<Applied> = { applied: after, appliedVersion: version, lastSuccessAt: now() };
    if (!stored) status.deleted = true;
    if (progress.notes.length > 0) status.notes = progress.notes;
    recorded = store.setSync<Applied>(kind, id, status, progress.createdCoderIds);
  }
  if (progress.followUps.length === 0 && !progress.followUpsOnceRecorded) {
    // Sent together, executed in order on one connection: one round trip on the hot path.
    await Promise.all([recorded, store.clearPending(kind, id, version)]);
  } else {
    // Follow-ups only after the sync status is written, so they read this resource as it now is in Coder; and
    // before the pending mark is cleared: a crash in between re-runs this resource, whose plan is then empty and
    // would never queue the follow-ups again. The follow-ups go out together (one round trip, not one per group).
    await recorded;
    const followUps = [...progress.followUps, ...((await progress.followUpsOnceRecorded?.()) ?? [])];
    await Promise.all(
      followUps.flatMap(({ kind: followUpKind, id: followUpId, changedMember }) =>
        changedMember === undefined || followUpKind !== 'group' ? [] : [store.markMembersChanged(followUpId, [changedMember])],
      ),
    );
    await Promise.all(followUps.map((followUp) => deps.queue.enqueue(followUp.kind, followUp.id)));
    await store.clearPending(kind, id, version);
  }
  return { outcome: progress.operations.length > 0 ? 'applied' : 'unchanged', operations: progress.operations, version };
}

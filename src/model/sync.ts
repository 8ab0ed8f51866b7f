/**
 * What the reconcilers record of each resource (what was applied to Coder, and why the last attempt failed), and
 * what a process knows of Coder: shown by the admin API, read by readiness and the queue.
 */

/** Why the last reconcile of a resource failed. */
export interface SyncError {
  /** 'coder_http' (Coder answered an error), 'unappliable' (Coder's API cannot express the change), 'unlicensed', 'network'. */
  code: string;
  message: string;
  coderStatus?: number;
  permanent: boolean;
  at: number;
  /** The desired version the failure is about: a newer desired version clears a permanent failure. */
  version: number;
}

/** What was last applied to Coder for a user: the worker plans against this on the hot path. */
export interface AppliedUser {
  coderId: string;
  username: string;
  email: string;
  name: string;
  status: 'active' | 'dormant' | 'suspended';
  /** The organization the user was made a member of. */
  orgMember: boolean;
}

export interface AppliedGroup {
  coderId: string;
  name: string;
  displayName: string;
  /**
   * The group's applied-members hash (StoreKeys.appliedMembers) holds exactly the members applied to Coder, so a
   * member change is applied from the store's record of changes. Anything else is reconciled with a full diff.
   */
  membersTracked?: boolean;
  /**
   * Coder user ids of the members, as written whole by earlier versions of the bridge and by a resync that records
   * Coder's real state. Never written with `membersTracked`.
   */
  memberCoderIds?: string[];
}

export interface SyncStatus<Applied> {
  applied?: Applied;
  /** Desired version that `applied` corresponds to. */
  appliedVersion?: number;
  lastSuccessAt?: number;
  lastError?: SyncError;
  /** Set when the desired resource was deleted and Coder still holds it (a tombstone). */
  deleted?: boolean;
  /** Free-form notes shown by the admin API (e.g. "email change not appliable"). */
  notes?: string[];
}

/** What a process knows of Coder itself: whether it answers and accepts the bridge's token (coder/health.ts). */
export interface CoderHealthSnapshot {
  /** Undefined until the first answer or failure. */
  up?: boolean;
  authFailing: boolean;
  /** When Coder last answered (any HTTP status), ms since the epoch. */
  lastAnswerAt?: number;
  /** The last failure, as `METHOD /route: reason` (no user data, no secret). */
  lastError?: string;
}

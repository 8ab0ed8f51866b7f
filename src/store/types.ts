import type { MemberSettlement } from './calls';
import type { GroupIndexFields, MembershipChange, ResourceKind, ScimDocument, StoredResource, UserIndexFields } from '../model/resource';
import type { SyncError, SyncStatus } from '../model/sync';

/**
 * The desired-state store: what the IdP asked for, kept in Redis.
 *
 * Resources are SCIM JSON documents exactly as the SCIM layer accepted them (schemas, id, meta included,
 * `members` and `groups` excluded: memberships live in sets so that a one-member change costs O(1)).
 * Every write bumps `version` (meta.version is `W/"<version>"`) and marks the resource pending for
 * reconciliation in the same atomic step.
 */

export type UserLookup = 'userName' | 'externalId' | 'email' | 'displayName' | 'userNamePrefix';

export interface Page {
  /** Ids in stable (creation) order. */
  ids: string[];
  total: number;
}

/** One page of a cursor scan (SCAN family): `cursor` '0' when the scan is complete. */
export interface ScanPage<T> {
  cursor: string;
  items: T[];
}

/** What the group reconciler needs to know of one member whose membership changed. */
export interface MemberState<A> {
  userId: string;
  /** A member of the desired group now. */
  member: boolean;
  /** The Coder id applied to the Coder group for this user, if any. */
  appliedCoderId: string | null;
  /** The user's own sync status: where it is in Coder. */
  user: SyncStatus<A> | null;
}

/** Resources whose last reconcile failed permanently, from the failure index the sync writes keep. */
export interface PermanentFailures {
  total: Record<ResourceKind, number>;
  /** At most `limit`: users first, each kind in id order. */
  items: { kind: ResourceKind; id: string; status: SyncStatus<unknown> & { lastError: SyncError } }[];
}

export class StoreError extends Error {
  constructor(
    readonly code: 'not_found' | 'uniqueness' | 'version_conflict' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** The outcome of a write: the new state, for the SCIM response. */
export interface MembershipResult {
  version: number;
  lastModified: number;
  /** Member ids that are not users of this store: not added (a group member must be a provisioned user). */
  ignored: string[];
}

/** Run on the exact version a delete will remove: throwing refuses the delete, and the error reaches the caller. */
export type Precondition = (current: StoredResource) => void;

export type UserMutation = (current: StoredResource) => { doc: ScimDocument; fields: UserIndexFields };
export type GroupMutation = (current: StoredResource) => { doc: ScimDocument; fields: GroupIndexFields };

/**
 * The desired state. Every write is atomic in Redis, bumps the resource's version and records the resource
 * in the pending set (see `pending`) in the same step, so a crash before the reconcile job is queued is healed
 * by re-queueing what is pending. Implementations throw StoreError('unavailable') when Redis fails.
 */
export interface DesiredStore {
  createUser(doc: ScimDocument, fields: UserIndexFields): Promise<StoredResource>;
  getUser(id: string): Promise<StoredResource | null>;
  getUsers(ids: string[]): Promise<(StoredResource | null)[]>;
  /** Optimistic read-modify-write: `mutate` may run again on a concurrent write. Throws not_found, uniqueness. */
  updateUser(id: string, mutate: UserMutation): Promise<StoredResource>;
  /**
   * Removes the user, its index entries and its memberships (each affected group is bumped and pending).
   * `precondition` sees the version about to be deleted and may throw to refuse (an If-Match that fails).
   */
  deleteUser(id: string, precondition?: Precondition): Promise<{ deleted: boolean; groupIds: string[] }>;
  /**
   * Lookups from indexes: exact for userName, email, displayName (case-insensitively) and externalId (exactly);
   * `userNamePrefix` is every user whose lower-cased userName starts with the lower-cased value. Undefined when
   * the index cannot answer yet (users stored before it existed and not backfilled).
   */
  findUsers(attribute: UserLookup, value: string): Promise<string[] | undefined>;
  /** `start` is 0-based. */
  listUsers(start: number, count: number): Promise<Page>;
  userGroupIds(id: string): Promise<string[]>;

  createGroup(
    doc: ScimDocument,
    fields: GroupIndexFields,
    memberIds: string[],
    displays?: Record<string, string>,
  ): Promise<StoredResource & { ignored: string[] }>;
  getGroup(id: string): Promise<StoredResource | null>;
  getGroups(ids: string[]): Promise<(StoredResource | null)[]>;
  updateGroup(id: string, mutate: GroupMutation): Promise<StoredResource>;
  deleteGroup(id: string, precondition?: Precondition): Promise<boolean>;
  /** displayName compares case-insensitively, externalId exactly. */
  findGroups(attribute: 'displayName' | 'externalId', value: string): Promise<string[]>;
  listGroups(start: number, count: number): Promise<Page>;
  /** Set operations on the member set, O(changed members). Throws not_found. */
  changeMembers(groupId: string, change: MembershipChange): Promise<MembershipResult>;
  memberIds(groupId: string): Promise<string[]>;
  /**
   * The member ids in batches of about `batch` (SSCAN: no id twice), so that a group of 100,000 is never one
   * reply to parse. A member added or removed meanwhile may or may not be seen.
   */
  memberIdBatches(groupId: string, batch: number): AsyncGenerator<string[]>;
  /** How many members each group has, in the order of `groupIds` (one round trip). */
  memberCounts(groupIds: string[]): Promise<number[]>;
  /** The display names clients sent for these members (null where none), in the order of `memberIds`. */
  memberDisplays(groupId: string, memberIds: string[]): Promise<(string | null)[]>;
  isMember(groupId: string, userId: string): Promise<boolean>;

  /** Resources written since they were last reconciled: `${kind}:${id}` -> version. */
  pending(limit?: number): Promise<{ kind: ResourceKind; id: string; version: number }[]>;
  /** Clears the pending mark unless a newer version was written meanwhile. */
  clearPending(kind: ResourceKind, id: string, version: number): Promise<void>;

  getSync<A>(kind: ResourceKind, id: string): Promise<SyncStatus<A> | null>;
  /** One round trip for any number of ids, in their order (null where there is none). */
  getSyncs<A>(kind: ResourceKind, ids: string[]): Promise<(SyncStatus<A> | null)[]>;
  /**
   * Also adds the resource to the failure index when `lastError.permanent`, and removes it otherwise.
   * `createdCoderIds` are Coder ids this resource's reconcile just created: claimed for it in the same atomic
   * write (a new id can have no other holder), so no sync status ever names an unclaimed Coder id.
   */
  setSync<A>(kind: ResourceKind, id: string, status: SyncStatus<A>, createdCoderIds?: string[]): Promise<void>;
  deleteSync(kind: ResourceKind, id: string): Promise<void>;
  /**
   * The member changes recorded since the group was last applied (userId, stamp), a page at a time. A change
   * stays until `settleMembers` removes it with the stamp that was read.
   */
  scanMemberChanges(groupId: string, cursor: string, count: number): Promise<ScanPage<[userId: string, stamp: string]>>;
  /** The desired members, a page at a time (for a full diff of a large group without one huge reply). */
  scanMembers(groupId: string, cursor: string, count: number): Promise<ScanPage<string>>;
  /** The SCIM ids of the members applied to the Coder group, a page at a time (they outlive a deleted SCIM group). */
  scanAppliedMembers(groupId: string, cursor: string, count: number): Promise<ScanPage<string>>;
  memberStates<A>(groupId: string, userIds: string[]): Promise<MemberState<A>[]>;
  /** Records what a Coder PATCH applied and removes the changes it covered, in one atomic step. */
  settleMembers(groupId: string, settlement: MemberSettlement): Promise<void>;
  /**
   * Gives these members a change entry if they have none: members waiting for their user, and members whose user
   * just landed in Coder (perhaps under a new Coder id), so that the group's next reconcile applies them.
   */
  markMembersChanged(groupId: string, userIds: string[]): Promise<void>;
  /** Replaces the group's applied members whole, atomically (after a full diff). */
  replaceAppliedMembers(groupId: string, applied: [userId: string, coderId: string][]): Promise<void>;
  appliedMemberCoderIds(groupId: string): Promise<string[]>;
  /** O(failures), however many resources are managed. */
  permanentFailures(limit: number): Promise<PermanentFailures>;
  /** Ids that have a sync status (managed in Coder, including tombstones), for resync and admin. */
  syncIds(kind: ResourceKind): Promise<string[]>;

  counts(): Promise<{ users: number; groups: number }>;
}

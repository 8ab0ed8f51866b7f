import type { Group, User } from '../coder/types';
import type { SyncStatus } from '../model/sync';
import type { ResourceKind, ScimDocument } from '../model/resource';
import { adoptedButPrivileged, privilegeOf } from './adoption-rules';
import { MappingError, mapGroup, mapUser } from './mapping';
import {
  isNote,
  planGroup,
  planUser,
  type AppliedGroupState,
  type AppliedUserState,
  type GroupOperation,
  type PlanContext,
  type UserOperation,
} from './plan';

/**
 * Drift: the store's managed resources compared with a snapshot of Coder's REAL state. Pure, so the full
 * resync is "read Coder, call computeDrift, act on the result" and every comparison rule is unit-testable.
 *
 * A resource has drifted when Coder no longer holds what the store says was applied (`differences`), or when
 * the plan against Coder's real state still has work to do (`operations`), e.g. a lost job or a failed create.
 */

export interface ManagedUser {
  id: string;
  /** Null for a tombstone: deleted in the store, possibly still in Coder. */
  desired: ScimDocument | null;
  sync: SyncStatus<AppliedUserState> | null;
}

export interface ManagedGroup {
  id: string;
  desired: ScimDocument | null;
  /** SCIM user ids of the desired members. */
  memberIds: string[];
  sync: SyncStatus<AppliedGroupState> | null;
  /** The Coder ids in the group's applied-members hash, when the sync status says it is the record (membersTracked). */
  appliedMemberCoderIds?: string[];
}

export interface CoderSnapshot {
  users: User[];
  /** Coder user ids that are members of the bridge's organization. */
  orgMemberIds: string[];
  /** The organization's groups, with their members. */
  groups: Group[];
  /** The Coder user behind the bridge's token, when read (a group-only snapshot does not). */
  tokenUserId?: string;
}

/** A stored-applied field Coder no longer agrees with, or `missing` when Coder lost the resource. */
export type UserDifference = 'missing' | 'username' | 'name' | 'email' | 'status' | 'orgMember';
export type GroupDifference = 'missing' | 'name' | 'displayName' | 'members';

export interface ResourceDrift<Kind extends ResourceKind, Difference, Operation, Applied> {
  kind: Kind;
  id: string;
  differences: Difference[];
  /** What planUser/planGroup would run against Coder's real state (notes such as emailNotAppliable excluded). */
  operations: Operation[];
  /** Coder's real state in the store's terms: what `applied` becomes; undefined when Coder does not hold it. */
  real: Applied | undefined;
}

export type UserDrift = ResourceDrift<'user', UserDifference, UserOperation, AppliedUserState>;
export type GroupDrift = ResourceDrift<'group', GroupDifference, GroupOperation, AppliedGroupState>;

/** A managed resource whose desired document cannot be mapped to Coder: reported, not planned. */
export interface Unplannable {
  kind: ResourceKind;
  id: string;
  code: string;
  message: string;
}

export interface UnmanagedUser {
  id: string;
  username: string;
  email: string;
  status: string;
}

export interface UnmanagedGroup {
  id: string;
  name: string;
  displayName: string;
  memberCount: number;
}

export interface Drift {
  checked: number;
  users: UserDrift[];
  groups: GroupDrift[];
  unplannable: Unplannable[];
  /** Coder resources the bridge does not manage: reported, never touched. */
  unmanaged: { users: UnmanagedUser[]; groups: UnmanagedGroup[] };
}

/**
 * Coder's user in the store's terms. `mappedUsername` survives only while Coder still has the username the
 * bridge chose: a clash suffix ("alice-1") stays stable, but a rename done in Coder is planned back.
 */
export function appliedUserFromCoder(user: User, orgMember: boolean, stored: AppliedUserState | undefined): AppliedUserState {
  const real: AppliedUserState = {
    coderId: user.id,
    username: user.username,
    email: user.email,
    name: user.name,
    status: user.status,
    orgMember,
  };
  if (stored?.mappedUsername !== undefined && stored.username === user.username) real.mappedUsername = stored.mappedUsername;
  if (stored?.adopted) real.adopted = true;
  // The access policy's record is the bridge's own memory of its grants, which Coder cannot tell: kept as it is.
  if (stored?.access) real.access = stored.access;
  return real;
}

export function appliedGroupFromCoder(group: Group, stored: AppliedGroupState | undefined): AppliedGroupState {
  const real: AppliedGroupState = {
    coderId: group.id,
    name: group.name,
    displayName: group.display_name,
    memberCoderIds: group.members.map((member) => member.id).sort(),
  };
  if (stored?.mappedName !== undefined && stored.name === group.name) real.mappedName = stored.mappedName;
  return real;
}

/** Active and dormant are one state to the bridge: Coder turns users dormant on its own. */
function sameStatus(a: AppliedUserState['status'], b: AppliedUserState['status']): boolean {
  return (a === 'suspended') === (b === 'suspended');
}

function userDifferences(stored: AppliedUserState | undefined, real: AppliedUserState | undefined): UserDifference[] {
  if (!stored) return [];
  if (!real) return ['missing'];
  const differences: UserDifference[] = [];
  if (stored.username !== real.username) differences.push('username');
  if (stored.name !== real.name) differences.push('name');
  if (stored.email.toLowerCase() !== real.email.toLowerCase()) differences.push('email');
  if (!sameStatus(stored.status, real.status)) differences.push('status');
  if (stored.orgMember !== real.orgMember) differences.push('orgMember');
  return differences;
}

function sameMembers(a: string[], b: string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((id) => set.has(id));
}

function groupDifferences(group: ManagedGroup, real: AppliedGroupState | undefined): GroupDifference[] {
  const stored = group.sync?.applied;
  if (!stored) return [];
  if (!real) return ['missing'];
  const differences: GroupDifference[] = [];
  if (stored.name !== real.name) differences.push('name');
  if (stored.displayName !== real.displayName) differences.push('displayName');
  const storedMembers = group.appliedMemberCoderIds ?? stored.memberCoderIds ?? [];
  if (!sameMembers(storedMembers, real.memberCoderIds ?? [])) differences.push('members');
  return differences;
}

function unplannable(kind: ResourceKind, id: string, err: unknown): Unplannable {
  if (err instanceof MappingError) return { kind, id, code: err.code, message: err.message };
  throw err;
}

export function computeDrift(managed: { users: ManagedUser[]; groups: ManagedGroup[] }, coder: CoderSnapshot, ctx: PlanContext): Drift {
  const coderUsers = new Map(coder.users.map((user) => [user.id, user]));
  const coderGroups = new Map(coder.groups.map((group) => [group.id, group]));
  const orgMembers = new Set(coder.orgMemberIds);
  const drift: Drift = { checked: 0, users: [], groups: [], unplannable: [], unmanaged: { users: [], groups: [] } };

  /**
   * SCIM user id -> Coder id, for users Coder holds in the organization: group members resolve through it, as the
   * group reconciler resolves them. Other members wait for their user's reconcile, which re-queues the group.
   */
  const coderIdOfUser = new Map<string, string>();
  for (const user of managed.users) {
    const coderId = user.sync?.applied?.coderId;
    if (user.desired && coderId && coderUsers.has(coderId) && orgMembers.has(coderId)) coderIdOfUser.set(user.id, coderId);
  }

  for (const user of managed.users) {
    drift.checked += 1;
    const stored = user.sync?.applied;
    const coderUser = stored ? coderUsers.get(stored.coderId) : undefined;
    const real = coderUser ? appliedUserFromCoder(coderUser, orgMembers.has(coderUser.id), stored) : undefined;
    // An adopted account that has since become privileged is no longer the bridge's: reported, never repaired.
    const privilege = stored?.adopted && coderUser ? privilegeOf(coderUser, coder.tokenUserId ?? '', stored.access?.granted.siteRoles) : undefined;
    if (privilege) {
      drift.unplannable.push({ kind: 'user', id: user.id, code: 'conflict', message: adoptedButPrivileged(user.id, coderUser!.username, privilege) });
      continue;
    }
    let operations: UserOperation[];
    try {
      operations = planUser(user.desired ? mapUser(user.desired) : null, real, ctx).filter((operation) => !isNote(operation));
    } catch (err) {
      drift.unplannable.push(unplannable('user', user.id, err));
      continue;
    }
    const differences = userDifferences(stored, real);
    if (differences.length > 0 || operations.length > 0) drift.users.push({ kind: 'user', id: user.id, differences, operations, real });
  }

  for (const group of managed.groups) {
    drift.checked += 1;
    const stored = group.sync?.applied;
    const coderGroup = stored ? coderGroups.get(stored.coderId) : undefined;
    const real = coderGroup ? appliedGroupFromCoder(coderGroup, stored) : undefined;
    let operations: GroupOperation[];
    try {
      const desired = group.desired
        ? { ...mapGroup(group.desired), memberCoderIds: group.memberIds.flatMap((id) => coderIdOfUser.get(id) ?? []) }
        : null;
      operations = planGroup(desired, real, ctx);
    } catch (err) {
      drift.unplannable.push(unplannable('group', group.id, err));
      continue;
    }
    const differences = groupDifferences(group, real);
    if (differences.length > 0 || operations.length > 0) drift.groups.push({ kind: 'group', id: group.id, differences, operations, real });
  }

  const managedUserIds = new Set(managed.users.flatMap((user) => user.sync?.applied?.coderId ?? []));
  const managedGroupIds = new Set(managed.groups.flatMap((group) => group.sync?.applied?.coderId ?? []));
  drift.unmanaged.users = coder.users
    .filter((user) => !managedUserIds.has(user.id))
    .map((user) => ({ id: user.id, username: user.username, email: user.email, status: user.status }));
  // The Everyone group shares its organization's id: every organization has it, nobody manages it.
  drift.unmanaged.groups = coder.groups
    .filter((group) => !managedGroupIds.has(group.id) && group.id !== ctx.orgId)
    .map((group) => ({ id: group.id, name: group.name, displayName: group.display_name, memberCount: group.members.length }));
  return drift;
}

import type { CreateUserRequest } from '../coder/types';
import type { AppliedGroup, AppliedUser } from '../model/sync';
import type { GroupGrantRecord, UserAccess, UserGrantRecord } from '../policy/plan';
import type { DesiredGroup, DesiredUser } from './mapping';

/**
 * The pure core of reconciliation: desired state vs what was last applied to Coder -> the ordered Coder
 * operations that close the gap. No I/O; the reconcilers fetch, call `plan*` and apply.
 */

export type LoginType = CreateUserRequest['login_type'];

export interface PlanContext {
  deletePolicy: 'suspend' | 'delete';
  loginType: LoginType;
  orgId: string;
}

/**
 * What was applied, plus the username the SCIM userName mapped to at the time: a clash suffix ("alice-1")
 * must not read as a rename to "alice" on every later plan.
 */
export interface AppliedUserState extends AppliedUser {
  mappedUsername?: string;
  /**
   * The Coder user existed before the bridge and was adopted by e-mail. Unlike a user the bridge created, it
   * stops being the bridge's to change if it later gains a site role, so its roles are read before each change.
   */
  adopted?: boolean;
  /** The access policy's grants, as last applied (absent: the policy never granted this user anything). */
  access?: AppliedUserAccess;
}

/** What the access policy made of a user in Coder: the record the bridge's ownership rule reads. */
export interface AppliedUserAccess {
  /** What the bridge granted, and so may take back: roles and memberships it added (never those made by hand). */
  granted: UserGrantRecord;
  /** The access the policy asked for when last applied: an unchanged ask costs no Coder call. */
  desired: UserAccess;
  /** Ids of the organizations the user is a member of, as of the last apply (groups there may take the user in). */
  organizationIds: string[];
  /** `onSuspend: stopWorkspaces` stopped the user's workspaces since the user was last suspended. */
  workspacesStopped?: boolean;
  /** A change was part-way applied (a call failed after others succeeded): the next run reads Coder whatever it desires. */
  partial?: boolean;
}

/** The group counterpart of `mappedUsername`. */
export interface AppliedGroupState extends AppliedGroup {
  mappedName?: string;
  /** The organization the Coder group lives in, when the access policy placed it outside PlanContext.orgId. */
  organizationId?: string;
  /** The access policy's grants on the group (quota, display name, avatar, template ACL entries), as last applied. */
  access?: GroupGrantRecord;
  /** What the policy asked of the group when its grants were last applied (group-access.ts accessKey): unchanged, no Coder read. */
  accessKey?: string;
  /** The SCIM displayName the policy matched, when the policy's display_name replaced it in Coder. */
  scimDisplayName?: string;
  /** The Coder group existed before the bridge (ADOPT_GROUPS): a move to another organization leaves it there. */
  adopted?: boolean;
  /**
   * The group's previous Coder group, after the policy moved it to another organization: deleted next when the
   * bridge made it; an adopted one is let go, once the grants the bridge gave it there (`access`) are taken back.
   */
  retiring?: { coderId: string; adopted?: boolean; organizationId?: string; access?: GroupGrantRecord };
}

/** The desired group with its members resolved to Coder ids (members not yet in Coder are left out). */
export interface DesiredGroupState extends DesiredGroup {
  memberCoderIds: string[];
}

export type UserOperation =
  | { op: 'createUser'; body: CreateUserRequest }
  | { op: 'addOrgMember'; orgId: string }
  | { op: 'updateProfile'; username: string; name: string }
  | { op: 'suspend' }
  | { op: 'activate' }
  | { op: 'deleteUser' }
  /** Coder's API cannot change a user's e-mail: a standing note, never a call. */
  | { op: 'emailNotAppliable'; from: string; to: string };

export type GroupOperation =
  | { op: 'createGroup'; orgId: string; name: string; display_name: string }
  | { op: 'patchGroup'; name?: string; display_name?: string; add_users: string[]; remove_users: string[] }
  | { op: 'deleteGroup' };

/** Operations that are notes for the sync status rather than Coder calls. */
export function isNote(operation: UserOperation): operation is Extract<UserOperation, { op: 'emailNotAppliable' }> {
  return operation.op === 'emailNotAppliable';
}

function planUserDeletion(applied: AppliedUserState | undefined, ctx: PlanContext): UserOperation[] {
  if (!applied) return [];
  if (ctx.deletePolicy === 'delete') return [{ op: 'deleteUser' }];
  return applied.status === 'suspended' ? [] : [{ op: 'suspend' }];
}

function createUser(desired: DesiredUser, ctx: PlanContext): UserOperation {
  const body: CreateUserRequest = {
    email: desired.email,
    username: desired.username,
    name: desired.name,
    login_type: ctx.loginType,
    organization_ids: [ctx.orgId],
  };
  // One call even for a user provisioned inactive: Coder accepts the status at creation.
  if (desired.suspended) body.user_status = 'suspended';
  return { op: 'createUser', body };
}

export function planUser(desired: DesiredUser | null, applied: AppliedUserState | undefined, ctx: PlanContext): UserOperation[] {
  if (!desired) return planUserDeletion(applied, ctx);
  if (!applied) return [createUser(desired, ctx)];

  const operations: UserOperation[] = [];
  if (!applied.orgMember) operations.push({ op: 'addOrgMember', orgId: ctx.orgId });
  // The username is stable once chosen: only a userName that now maps elsewhere renames the Coder user.
  const username = desired.username === (applied.mappedUsername ?? applied.username) ? applied.username : desired.username;
  if (username !== applied.username || desired.name !== applied.name) {
    operations.push({ op: 'updateProfile', username, name: desired.name });
  }
  if (desired.suspended && applied.status !== 'suspended') operations.push({ op: 'suspend' });
  // A dormant user is fine: Coder users stay dormant until their first login.
  if (!desired.suspended && applied.status === 'suspended') operations.push({ op: 'activate' });
  if (desired.email.toLowerCase() !== applied.email.toLowerCase()) {
    operations.push({ op: 'emailNotAppliable', from: applied.email, to: desired.email });
  }
  return operations;
}

/** Set difference both ways, O(n). */
export function memberDelta(desired: string[], applied: string[]): { add_users: string[]; remove_users: string[] } {
  const want = new Set(desired);
  const have = new Set(applied);
  return {
    add_users: [...want].filter((id) => !have.has(id)),
    remove_users: [...have].filter((id) => !want.has(id)),
  };
}

export interface GroupFields {
  name?: string;
  display_name?: string;
}

/** The rename and display-name change a group needs, if any (a clash suffix is kept, as for usernames). */
export function planGroupFields(desired: DesiredGroup, applied: AppliedGroupState): GroupFields {
  const fields: GroupFields = {};
  const name = desired.name === (applied.mappedName ?? applied.name) ? applied.name : desired.name;
  if (name !== applied.name) fields.name = name;
  if (desired.displayName !== applied.displayName) fields.display_name = desired.displayName;
  return fields;
}

/**
 * The full diff: desired members vs `applied.memberCoderIds` (Coder's real members in a resync). The group
 * reconciler applies member changes from the store's record of changes instead, and diffs whole only to recover.
 */
export function planGroup(desired: DesiredGroupState | null, applied: AppliedGroupState | undefined, ctx: PlanContext): GroupOperation[] {
  if (!desired) return applied ? [{ op: 'deleteGroup' }] : [];
  if (!applied) {
    const create: GroupOperation = { op: 'createGroup', orgId: ctx.orgId, name: desired.name, display_name: desired.displayName };
    // Coder's create takes no members: they follow in one PATCH.
    const { add_users } = memberDelta(desired.memberCoderIds, []);
    return add_users.length > 0 ? [create, { op: 'patchGroup', add_users, remove_users: [] }] : [create];
  }

  const patch: Extract<GroupOperation, { op: 'patchGroup' }> = {
    op: 'patchGroup',
    ...memberDelta(desired.memberCoderIds, applied.memberCoderIds ?? []),
    ...planGroupFields(desired, applied),
  };
  const changed = patch.name !== undefined || patch.display_name !== undefined || patch.add_users.length > 0 || patch.remove_users.length > 0;
  return changed ? [patch] : [];
}

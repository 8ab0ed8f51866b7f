import type { MemberSettlement } from '../store/calls';
import type { MemberState } from '../store/types';
import type { SyncStatus } from '../model/sync';
import type { AppliedUserState } from './plan';

/**
 * The pure core of member reconciliation from recorded changes: each changed member's desired state vs what was
 * applied for it -> the Coder ids to add and remove, and what to record once Coder has them. O(changes).
 */

/** The PATCH member lists plus what to record once Coder accepted them. */
export interface MemberChangePlan extends MemberSettlement {
  add_users: string[];
  remove_users: string[];
}

/**
 * The Coder id a member is added under: only a user that is in Coder and in the group's organization can join a
 * group. `orgId` undefined is the base organization (CODER_ORGANIZATION), joined with the user itself; another
 * one (where the access policy placed the group) is joined by the user's access step, which records it.
 */
export function landedCoderId(user: SyncStatus<AppliedUserState> | null, orgId?: string): string | undefined {
  const applied = user?.applied;
  if (!applied || user!.deleted) return undefined;
  const inOrganization = orgId === undefined ? applied.orgMember : applied.access?.organizationIds.includes(orgId);
  return inOrganization ? applied.coderId : undefined;
}

export function emptyMemberPlan(): MemberChangePlan {
  return { add_users: [], remove_users: [], set: [], unset: [], settled: [] };
}

/**
 * Adds to `plan` what the changed members need. A member whose user is not in Coder (or not in the group's
 * organization, `orgId` as for landedCoderId) yet keeps its change entry: when the user lands (or joins), its
 * reconcile re-queues the group and the entry is applied then. A removed member whose
 * user has no sync status left was deleted from Coder, which took it out of every group: nothing to call.
 */
export function planMemberChanges(
  plan: MemberChangePlan,
  changes: { state: MemberState<AppliedUserState>; stamp: string }[],
  orgId?: string,
): MemberChangePlan {
  for (const { state, stamp } of changes) {
    const want = state.member ? landedCoderId(state.user, orgId) : undefined;
    const have = state.appliedCoderId ?? undefined;
    if (have !== undefined && have !== want) {
      if (state.user) plan.remove_users.push(have);
      // A new Coder id overwrites the old one below; the settle script writes before it deletes.
      if (want === undefined) plan.unset.push(state.userId);
    }
    if (want !== undefined && want !== have) {
      plan.add_users.push(want);
      plan.set.push([state.userId, want]);
    }
    if (!state.member || want !== undefined) plan.settled.push([state.userId, stamp]);
  }
  return plan;
}

export function memberCount(plan: Pick<MemberChangePlan, 'add_users' | 'remove_users'>): number {
  return plan.add_users.length + plan.remove_users.length;
}

/** Splits member lists into PATCHes of at most `size` ids, adds first, each PATCH filled before the next. */
export function memberBatches(add: string[], remove: string[], size: number): { add_users: string[]; remove_users: string[] }[] {
  const parts: { add_users: string[]; remove_users: string[] }[] = [];
  for (let start = 0; start < add.length + remove.length; start += size) {
    const end = start + size;
    parts.push({
      add_users: add.slice(start, end),
      remove_users: remove.slice(Math.max(0, start - add.length), Math.max(0, end - add.length)),
    });
  }
  return parts;
}

import type { CoderClient } from '../coder/client';
import { CoderApiError, isNotFound, isTransient } from '../coder/errors';
import type { StoredResource } from '../model/resource';
import { firstFreeName, isConflict, takeClaim, type AdoptionPolicy } from './adoption';
import { groupAdoption } from './adoption-rules';
import { ReconcileError } from './errors';
import { createdGrants, createFields, groupsAffectUsers, GroupGrants, hasGrants, matchedName, NO_GROUP_ACCESS, viewGroup, withScimName, type GroupPolicyView } from './group-access';
import { GROUP_NAME_MAX, mapGroup, type DesiredGroup } from './mapping';
import { emptyMemberPlan, landedCoderId, memberBatches, memberCount, planMemberChanges, type MemberChangePlan } from './member-plan';
import { memberDelta, planGroupFields, type AppliedGroupState, type AppliedUserState, type GroupFields, type PlanContext } from './plan';
import { reconcileResource, type Progress, type ReconcileDeps, type ReconcileOptions, type ReconcileResult, type Reconciler } from './reconcile-resource';

const MAX_ROUNDS = 5;
/** Coder rolls the whole PATCH back when one added user is already a member. */
const DUPLICATE_MEMBER = 'Cannot add the same user to a group twice!';
/** Coder's 400 for an id that is not (or no longer) a member of the group's organization (the group's name follows). */
const NOT_ORG_MEMBER = 'User must be a member of organization ';
/** Member changes, or members, read per Redis round trip: bounded replies, so no read blocks the event loop. */
const READ_PAGE = 1_000;
/**
 * User ids per Coder PATCH. Coder documents no body limit (coder-api.md §4.4); 2,000 ids is an 80 KB body and one
 * database transaction of 2,000 inserts, far from any proxy's or Postgres' limits, and 25 calls for 50,000 members.
 */
export const MEMBERS_PER_PATCH = 2_000;

export interface GroupReconcilerDeps extends ReconcileDeps {
  coder: CoderClient;
  ctx: PlanContext;
  /** Coder's template_rbac feature, checked once at worker start (see groupsLicensed). */
  groupsLicensed: boolean;
  adoption: AdoptionPolicy;
}

/** `full`: the record of what Coder holds cannot be trusted, diff the whole group against Coder's real members. */
type Step = 'done' | 'replan' | 'full';

interface MemberLists {
  add_users: string[];
  remove_users: string[];
}

function isDuplicateMember(err: unknown): boolean {
  return err instanceof CoderApiError && err.status === 400 && err.message === DUPLICATE_MEMBER;
}

function isNotOrgMember(err: unknown): boolean {
  return err instanceof CoderApiError && err.status === 400 && err.message.startsWith(NOT_ORG_MEMBER);
}

function hasFields(fields: GroupFields): boolean {
  return fields.name !== undefined || fields.display_name !== undefined;
}

/** The applied group without any member record: what is written while the members are being diffed whole. */
function untracked({ memberCoderIds: _members, membersTracked: _tracked, ...rest }: AppliedGroupState): AppliedGroupState {
  return rest;
}

/**
 * Groups. A member change is applied from the store's record of member changes (O(change): only the changed
 * members' Coder ids are looked up, one PATCH, the applied-members hash updated per member). The whole group is
 * diffed against Coder's real member list only to recover: a group just created or adopted, a record written by
 * an earlier version or a resync, and Coder disagreeing (a duplicate add, a member no longer in the organization).
 */
export class GroupReconciler implements Reconciler {
  private readonly grants: GroupGrants;

  constructor(private readonly deps: GroupReconcilerDeps) {
    this.grants = new GroupGrants(deps.coder);
  }

  reconcile(id: string, options: ReconcileOptions = {}): Promise<ReconcileResult> {
    return reconcileResource<AppliedGroupState>(
      id,
      options,
      {
        kind: 'group',
        load: (groupId) => this.deps.store.getGroup(groupId),
        converge: (groupId, stored, progress) => this.converge(groupId, stored, progress, options.force === true),
      },
      this.deps,
    );
  }

  /** `force` (a resync, or the reload of a policy after a permanent failure): the policy's grants are read back from Coder even when the ask has not changed. */
  private async converge(id: string, stored: StoredResource | null, progress: Progress<AppliedGroupState>, force: boolean): Promise<void> {
    const scim = stored ? mapGroup(stored.doc) : null;
    const view = scim ? await viewGroup(this.deps.access, this.deps.ctx.orgId, scim) : null;
    await this.requeueUsers(id, scim, progress.applied);
    /** Coder's members, when this run just learnt them (a created or adopted group). */
    let realMembers: string[] | undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (progress.applied?.retiring) await this.retire(id, progress);
      const applied = progress.applied;
      if (!view) {
        if (applied) await this.deleteGroup(applied, progress);
        return;
      }
      if (!applied) {
        realMembers = await this.createOrAdopt(id, view, progress);
        continue;
      }
      if ((applied.organizationId ?? this.deps.ctx.orgId) !== view.orgId) {
        realMembers = await this.move(id, view, progress);
        continue;
      }
      const step = applied.membersTracked ? await this.applyChanges(id, view, progress) : await this.applyFullDiff(id, view, progress, realMembers);
      realMembers = undefined;
      if (step === 'done' && (await this.applyGrants(view, progress, force)) === 'done') {
        progress.applied = withScimName(progress.applied!, view);
        return;
      }
      if (step === 'full' && progress.applied) progress.applied = untracked(progress.applied);
    }
    throw new ReconcileError('not_converging', `Coder kept disagreeing with the plan for group ${id}`, false);
  }

  /** The policy's grants, when it asks something other than what was last applied (or a resync asks to check). */
  private async applyGrants(view: GroupPolicyView, progress: Progress<AppliedGroupState>, force: boolean): Promise<Step> {
    const { access, key } = view;
    if (access === undefined || key === undefined) return 'done';
    if (!force && progress.applied!.accessKey === key) return 'done';
    this.requireLicence();
    if ((await this.grants.apply({ ...view, access, key }, progress)) === 'done') return 'done';
    // Deleted outside the bridge: created (or adopted) again.
    progress.applied = undefined;
    return 'replan';
  }

  /**
   * With a policy whose rules give users access by their groups, the users whose membership changes (all members,
   * when the group is new, renamed or deleted) are reconciled again, so that their organizations and roles follow.
   * Read from the store before any Coder call: a failing Coder loses no follow-up. No such policy, no work.
   */
  private async requeueUsers(id: string, scim: DesiredGroup | null, applied: AppliedGroupState | undefined): Promise<void> {
    const policy = this.deps.access?.policy.current();
    if (!policy || !groupsAffectUsers(policy)) return;
    const { store, queue } = this.deps;
    const pages = (cursor: string) => {
      if (!scim) return applied ? store.scanAppliedMembers(id, cursor, READ_PAGE) : Promise.resolve({ cursor: '0', items: [] });
      if (!applied || matchedName(applied) !== scim.displayName) return store.scanMembers(id, cursor, READ_PAGE);
      return store.scanMemberChanges(id, cursor, READ_PAGE).then((page) => ({ cursor: page.cursor, items: page.items.map(([userId]) => userId) }));
    };
    const seen = new Set<string>();
    const requeue = (userIds: string[]) => Promise.all(userIds.filter((userId) => !seen.has(userId) && seen.add(userId)).map((userId) => queue.enqueue('user', userId)));
    if (!scim && applied?.memberCoderIds) {
      // A deleted group whose members were recorded whole (by a resync or an earlier version): its SCIM members
      // are gone from the store with it, so they are found through the claims on their Coder users.
      for (let i = 0; i < applied.memberCoderIds.length; i += READ_PAGE) {
        const holders = await this.deps.claims.holders('user', applied.memberCoderIds.slice(i, i + READ_PAGE));
        await requeue(holders.filter((holder): holder is string => holder !== null));
      }
    }
    let cursor = '0';
    do {
      const page = await pages(cursor);
      cursor = page.cursor;
      await requeue(page.items);
    } while (cursor !== '0');
  }

  /**
   * The policy moved the group to another organization: the group is made there (created, or adopted under the
   * same rules), and the one it leaves is retired. Returns Coder's members of the new group, for the full diff.
   */
  private async move(id: string, view: GroupPolicyView, progress: Progress<AppliedGroupState>): Promise<string[]> {
    const previous = progress.applied!;
    const adopted = previous.adopted === true || this.listedForAdoption(previous.name);
    progress.applied = undefined;
    try {
      const members = await this.createOrAdopt(id, view, progress);
      const retiring: NonNullable<AppliedGroupState['retiring']> = { coderId: previous.coderId };
      if (adopted) {
        retiring.adopted = true;
        // Where the bridge's grants on it are, to take them back before letting it go.
        if (previous.organizationId !== undefined) retiring.organizationId = previous.organizationId;
        if (previous.access !== undefined) retiring.access = previous.access;
      }
      progress.applied = { ...progress.applied!, retiring };
      return members;
    } catch (err) {
      // Nothing made in the new organization: the group stays where it is, recorded as before.
      if (!progress.applied) progress.applied = previous;
      throw err;
    }
  }

  /** A record written before `adopted` existed says nothing: a group ADOPT_GROUPS lists is taken as adopted (kept). */
  private listedForAdoption(name: string): boolean {
    const { groups } = this.deps.adoption;
    return groups.all || groups.names.has(name);
  }

  /**
   * The Coder group the group left: deleted when the bridge made it; an adopted one is let go, with what the bridge
   * granted it taken back (its members, and grants made by hand, stay).
   */
  private async retire(id: string, progress: Progress<AppliedGroupState>): Promise<void> {
    const { retiring, ...rest } = progress.applied!;
    if (!retiring) return;
    if (retiring.adopted && retiring.access) {
      const old: Progress<AppliedGroupState> = { ...progress, applied: { coderId: retiring.coderId, name: '', displayName: '', access: retiring.access } };
      try {
        this.requireLicence();
        await this.grants.apply({ orgId: retiring.organizationId ?? this.deps.ctx.orgId, access: NO_GROUP_ACCESS, key: '' }, old);
      } finally {
        // What is left to take back (nothing once done; a group deleted meanwhile took it all with it).
        const left = old.applied?.access;
        const { access: _taken, ...others } = retiring;
        progress.applied = { ...progress.applied!, retiring: left && hasGrants(left) ? { ...others, access: left } : others };
      }
    } else if (!retiring.adopted) {
      await this.deleteCoderGroup(retiring.coderId, progress);
    }
    await this.deps.claims.release('group', retiring.coderId, id);
    progress.applied = rest;
  }

  /** Only a group that needs a Coder call fails for want of a licence: a deleted, never-applied one is simply done. */
  private requireLicence(): void {
    if (this.deps.groupsLicensed) return;
    throw new ReconcileError('unlicensed', "Coder groups need the template_rbac feature (a Premium licence): this group is not provisioned", true);
  }

  private async deleteGroup(applied: AppliedGroupState, progress: Progress<AppliedGroupState>): Promise<void> {
    await this.deleteCoderGroup(applied.coderId, progress);
    progress.applied = undefined;
  }

  private async deleteCoderGroup(coderId: string, progress: Progress<AppliedGroupState>): Promise<void> {
    this.requireLicence();
    progress.operations.push('deleteGroup');
    try {
      await this.deps.coder.deleteGroup(coderId);
    } catch (err) {
      // Already deleted outside the bridge: done.
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * The changes recorded since the last apply, a page at a time; a PATCH goes out whenever the next page could
   * overfill it, and each PATCH's members are settled (applied hash and change entries) right after it.
   */
  private async applyChanges(id: string, view: GroupPolicyView, progress: Progress<AppliedGroupState>): Promise<Step> {
    const { store } = this.deps;
    let fields = planGroupFields(view.desired, progress.applied!);
    let plan = emptyMemberPlan();
    // SCAN may return an entry twice; applying it twice would add a member twice.
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const page = await store.scanMemberChanges(id, cursor, READ_PAGE);
      cursor = page.cursor;
      const fresh = page.items.filter(([userId]) => !seen.has(userId) && seen.add(userId));
      // A change adds and removes at most one id each.
      if (memberCount(plan) + 2 * fresh.length > MEMBERS_PER_PATCH) {
        const step = await this.flush(id, plan, fields, view, progress);
        if (step !== 'done') return step;
        [plan, fields] = [emptyMemberPlan(), {}];
      }
      const states = await store.memberStates<AppliedUserState>(id, fresh.map(([userId]) => userId));
      planMemberChanges(
        plan,
        states.map((state, i) => ({ state, stamp: fresh[i][1] })),
        this.memberOrg(view),
      );
    } while (cursor !== '0');
    return this.flush(id, plan, fields, view, progress);
  }

  /** The organization members must be in, as landedCoderId takes it (undefined: the base one). */
  private memberOrg(view: GroupPolicyView): string | undefined {
    return view.orgId === this.deps.ctx.orgId ? undefined : view.orgId;
  }

  private async flush(id: string, plan: MemberChangePlan, fields: GroupFields, view: GroupPolicyView, progress: Progress<AppliedGroupState>): Promise<Step> {
    if (memberCount(plan) > 0 || hasFields(fields)) {
      const step = await this.patch({ add_users: plan.add_users, remove_users: plan.remove_users }, fields, view, progress, false);
      if (step !== 'done') return step;
    }
    if (plan.set.length + plan.unset.length + plan.settled.length > 0) await this.deps.store.settleMembers(id, plan);
    return 'done';
  }

  /**
   * The whole desired member list against Coder's real one, in PATCHes of MEMBERS_PER_PATCH; then the applied
   * hash is replaced whole and the changes read before the diff are settled (newer ones stay for the next run).
   */
  private async applyFullDiff(id: string, view: GroupPolicyView, progress: Progress<AppliedGroupState>, realMembers: string[] | undefined): Promise<Step> {
    const { store, coder } = this.deps;
    // Until the diff is done, a failure records "diff again", never a member list that may be half applied.
    progress.applied = untracked(progress.applied!);
    const changes = await this.readChanges(id);
    const real = realMembers ?? (await coder.groupSummary(progress.applied.coderId))?.memberIds;
    if (real === undefined) {
      // Deleted outside the bridge: created (or adopted) again.
      progress.applied = undefined;
      return 'replan';
    }
    const { landed, waiting } = await this.readDesiredMembers(id, this.memberOrg(view));
    const delta = memberDelta(
      landed.map(([, coderId]) => coderId),
      real,
    );
    const { add_users } = delta;
    const remove_users = await this.removable(delta.remove_users);
    let fields = planGroupFields(view.desired, progress.applied);
    const batches = memberBatches(add_users, remove_users, MEMBERS_PER_PATCH);
    if (batches.length === 0 && hasFields(fields)) batches.push({ add_users: [], remove_users: [] });
    for (const batch of batches) {
      const step = await this.patch(batch, fields, view, progress, true);
      if (step !== 'done') return step;
      fields = {};
    }
    await store.replaceAppliedMembers(id, landed);
    const waitingIds = new Set(waiting);
    const settled = [...changes].filter(([userId]) => !waitingIds.has(userId));
    for (let i = 0; i < settled.length; i += READ_PAGE) await store.settleMembers(id, { set: [], unset: [], settled: settled.slice(i, i + READ_PAGE) });
    await store.markMembersChanged(id, waiting);
    progress.applied = { ...progress.applied!, membersTracked: true };
    return 'done';
  }

  /**
   * The bridge removes only the grants it may manage: members that are Coder users of SCIM users (claimed).
   * Others, such as the existing members of an adopted group, privileged accounts among them, stay.
   */
  private async removable(coderIds: string[]): Promise<string[]> {
    const removable: string[] = [];
    for (let i = 0; i < coderIds.length; i += READ_PAGE) {
      const page = coderIds.slice(i, i + READ_PAGE);
      const holders = await this.deps.claims.holders('user', page);
      page.forEach((coderId, j) => {
        if (holders[j] !== null) removable.push(coderId);
      });
    }
    return removable;
  }

  private async readChanges(id: string): Promise<Map<string, string>> {
    const changes = new Map<string, string>();
    let cursor = '0';
    do {
      const page = await this.deps.store.scanMemberChanges(id, cursor, READ_PAGE);
      cursor = page.cursor;
      for (const [userId, stamp] of page.items) changes.set(userId, stamp);
    } while (cursor !== '0');
    return changes;
  }

  /** The desired members in Coder (SCIM id, Coder id), and those waiting for their user to land (in `orgId`). */
  private async readDesiredMembers(id: string, orgId: string | undefined): Promise<{ landed: [string, string][]; waiting: string[] }> {
    const { store } = this.deps;
    const landed: [string, string][] = [];
    const waiting: string[] = [];
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const page = await store.scanMembers(id, cursor, READ_PAGE);
      cursor = page.cursor;
      const fresh = page.items.filter((userId) => !seen.has(userId) && seen.add(userId));
      const syncs = await store.getSyncs<AppliedUserState>('user', fresh);
      fresh.forEach((userId, i) => {
        const coderId = landedCoderId(syncs[i], orgId);
        if (coderId === undefined) waiting.push(userId);
        else landed.push([userId, coderId]);
      });
    } while (cursor !== '0');
    return { landed, waiting };
  }

  /**
   * One PATCH; Coder's answer is not read. A rename that clashes moves on to the next suffix. A duplicate add
   * means Coder moved on meanwhile: diff again. A member outside the organization is worth a full diff when the
   * record was trusted; when the full diff itself sent it, the user's own record is wrong and the 400 stands.
   */
  private async patch(members: MemberLists, fields: GroupFields, view: GroupPolicyView, progress: Progress<AppliedGroupState>, fullDiff: boolean): Promise<Step> {
    const { coder } = this.deps;
    const applied = progress.applied!;
    this.requireLicence();
    progress.operations.push('patchGroup');
    const body = { ...members, ...(fields.display_name === undefined ? {} : { display_name: fields.display_name }) };
    const send = async (name: string | undefined) => {
      await coder.patchGroup(applied.coderId, name === undefined ? body : { ...body, name });
      return name;
    };
    try {
      const name = fields.name === undefined ? await send(undefined) : await firstFreeName(fields.name, GROUP_NAME_MAX, send);
      const next = { ...applied, name: name ?? applied.name, displayName: fields.display_name ?? applied.displayName, mappedName: view.desired.name };
      progress.applied = fields.display_name === undefined ? next : withScimName(next, view);
      return 'done';
    } catch (err) {
      if (isDuplicateMember(err) || (isNotOrgMember(err) && !fullDiff)) return 'full';
      if (!isNotFound(err)) throw err;
      // Deleted outside the bridge: a desired group is created (or adopted) again.
      progress.applied = undefined;
      return 'replan';
    }
  }

  /**
   * On 409 the Coder group with that name is another SCIM group's (then the next suffix is tried), or an existing
   * group, adopted only when ADOPT_GROUPS lists it: otherwise a permanent conflict that leaves it untouched.
   * Returns Coder's members of the group, which the full diff that follows starts from.
   */
  private async createOrAdopt(id: string, view: GroupPolicyView, progress: Progress<AppliedGroupState>): Promise<string[]> {
    const { coder, ctx, claims } = this.deps;
    const { desired, orgId, access } = view;
    // Recorded only outside the base organization: records of groups there stay as they were.
    const placed = orgId === ctx.orgId ? {} : { organizationId: orgId };
    this.requireLicence();
    progress.operations.push('createGroup');
    let members: string[] = [];
    progress.applied = await firstFreeName(desired.name, GROUP_NAME_MAX, async (name): Promise<AppliedGroupState> => {
      const unanswered = await claims.unansweredCreate('group', id);
      await claims.noteCreate('group', id, name);
      try {
        const group = await coder.createGroup(orgId, { name, display_name: desired.displayName, ...createFields(access) });
        await claims.forgetCreate('group', id);
        progress.createdCoderIds.push(group.id);
        members = group.members.map((member) => member.id);
        const granted = createdGrants(access);
        const created = { coderId: group.id, name: group.name, displayName: group.display_name, mappedName: desired.name, ...placed };
        return withScimName(granted ? { ...created, access: granted } : created, view);
      } catch (err) {
        if (!isTransient(err)) await claims.forgetCreate('group', id);
        if (!isConflict(err)) throw err;
        const existing = await coder.groupSummaryByName(orgId, name);
        if (!existing) throw new ReconcileError('not_converging', `Coder answered 409 for group "${name}" but holds no group of that name`, false);
        // A group another SCIM group claims is the bridge's own (a suffix resolves the clash, see takeClaim), and
        // so is the empty group an earlier, unanswered create of this one made under this name. Any other
        // unclaimed one existed before the bridge, and only ADOPT_GROUPS lets the bridge take it over.
        const madeByUnansweredCreate = unanswered === name && existing.memberIds.length === 0;
        let adopted = false;
        if (!madeByUnansweredCreate && (await claims.holder('group', existing.id)) === null) {
          const verdict = groupAdoption(existing, this.deps.adoption.groups);
          if (!verdict.adopt) throw new ReconcileError('conflict', verdict.reason, true);
          adopted = true;
        }
        if (!(await takeClaim(this.deps, 'group', existing.id, id)).taken) throw err;
        members = existing.memberIds;
        const found = { coderId: existing.id, name: existing.name, displayName: existing.display_name, mappedName: desired.name, ...placed };
        return withScimName(adopted ? { ...found, adopted } : found, view);
      }
    });
    return members;
  }
}

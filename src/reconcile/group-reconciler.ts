import type { CoderClient } from '../coder/client';
import { CoderApiError, isNotFound } from '../coder/errors';
import type { Group } from '../coder/types';
import type { StoredResource } from '../store/types';
import { firstFreeName, isConflict, takeClaim, type AdoptionPolicy } from './adoption';
import { groupAdoption } from './adoption-rules';
import { ReconcileError } from './errors';
import { GROUP_NAME_MAX, mapGroup } from './mapping';
import { planGroup, type AppliedGroupState, type AppliedUserState, type DesiredGroupState, type GroupOperation, type PlanContext } from './plan';
import { reconcileResource, type Progress, type ReconcileDeps, type ReconcileOptions, type ReconcileResult, type Reconciler } from './reconcile-resource';

const MAX_ROUNDS = 5;
/** Coder rolls the whole PATCH back when one added user is already a member. */
const DUPLICATE_MEMBER = 'Cannot add the same user to a group twice!';

export interface GroupReconcilerDeps extends ReconcileDeps {
  coder: CoderClient;
  ctx: PlanContext;
  /** Coder's template_rbac feature, checked once at worker start (see groupsLicensed). */
  groupsLicensed: boolean;
  adoption: AdoptionPolicy;
}

type Step = 'continue' | 'replan';

function isDuplicateMember(err: unknown): boolean {
  return err instanceof CoderApiError && err.status === 400 && err.message === DUPLICATE_MEMBER;
}

export class GroupReconciler implements Reconciler {
  constructor(private readonly deps: GroupReconcilerDeps) {}

  reconcile(id: string, options: ReconcileOptions = {}): Promise<ReconcileResult> {
    return reconcileResource<AppliedGroupState>(
      id,
      options,
      { kind: 'group', load: (groupId) => this.deps.store.getGroup(groupId), converge: (groupId, stored, progress) => this.converge(groupId, stored, progress) },
      this.deps,
    );
  }

  private async converge(id: string, stored: StoredResource | null, progress: Progress<AppliedGroupState>): Promise<void> {
    const desired: DesiredGroupState | null = stored ? { ...mapGroup(stored.doc), memberCoderIds: await this.memberCoderIds(id) } : null;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const operations = planGroup(desired, progress.applied, this.deps.ctx);
      // Only a group that needs a Coder call fails for want of a licence: a deleted, never-applied one is simply done.
      if (operations.length > 0 && !this.deps.groupsLicensed) {
        throw new ReconcileError('unlicensed', "Coder groups need the template_rbac feature (a Premium licence): this group is not provisioned", true);
      }
      if (await this.applyAll(id, desired, operations, progress)) return;
    }
    throw new ReconcileError('not_converging', `Coder kept disagreeing with the plan for group ${id}`, false);
  }

  /**
   * The Coder ids of the members that are in Coder and in the organization. The others are skipped, not
   * dropped: their user reconcile re-queues this group once they land.
   */
  private async memberCoderIds(id: string): Promise<string[]> {
    const { store } = this.deps;
    const memberIds = await store.memberIds(id);
    const syncs = await store.getSyncs<AppliedUserState>('user', memberIds);
    return syncs.flatMap((sync) => (sync?.applied?.orgMember && !sync.deleted ? [sync.applied.coderId] : []));
  }

  private async applyAll(id: string, desired: DesiredGroupState | null, operations: GroupOperation[], progress: Progress<AppliedGroupState>): Promise<boolean> {
    for (const operation of operations) {
      progress.operations.push(operation.op);
      if ((await this.apply(id, desired, operation, progress)) === 'replan') return false;
    }
    return true;
  }

  private async apply(id: string, desired: DesiredGroupState | null, operation: GroupOperation, progress: Progress<AppliedGroupState>): Promise<Step> {
    const { coder } = this.deps;
    if (operation.op === 'createGroup') {
      progress.applied = await this.createOrAdopt(id, operation, desired!.name, progress);
      return 'replan';
    }
    const applied = progress.applied!;
    try {
      if (operation.op === 'deleteGroup') {
        await coder.deleteGroup(applied.coderId);
        progress.applied = undefined;
        return 'continue';
      }
      const { name, ...rest } = operation;
      const { removable, kept } = await this.splitRemovals(rest.remove_users);
      const forget = (members: string[]) => members.filter((memberId) => !kept.has(memberId));
      if (name === undefined && rest.display_name === undefined && rest.add_users.length === 0 && removable.length === 0) {
        progress.applied = { ...applied, memberCoderIds: forget(applied.memberCoderIds) };
        return 'continue';
      }
      const patch = (newName: string | undefined) =>
        coder.patchGroup(applied.coderId, { ...rest, remove_users: removable, ...(newName === undefined ? {} : { name: newName }) });
      const group = name === undefined ? await patch(undefined) : await firstFreeName(name, GROUP_NAME_MAX, patch);
      const next = this.appliedFrom(group, desired?.name ?? applied.mappedName);
      progress.applied = { ...next, memberCoderIds: forget(next.memberCoderIds) };
      return 'continue';
    } catch (err) {
      if (isDuplicateMember(err)) {
        // Someone added a member in Coder meanwhile: plan again against Coder's real member list.
        const real = await coder.group(applied.coderId);
        progress.applied = real ? this.appliedFrom(real, applied.mappedName) : undefined;
        return 'replan';
      }
      if (!isNotFound(err)) throw err;
      // Deleted outside the bridge: a desired group is created (or adopted) again, a deleted one is done.
      progress.applied = undefined;
      return 'replan';
    }
  }

  /**
   * On 409 the Coder group with that name is another SCIM group's (then the next suffix is tried), or an existing
   * group, adopted only when ADOPT_GROUPS lists it: otherwise a permanent conflict that leaves it untouched.
   */
  private createOrAdopt(id: string, operation: Extract<GroupOperation, { op: 'createGroup' }>, mappedName: string, progress: Progress<AppliedGroupState>): Promise<AppliedGroupState> {
    const { coder, claims } = this.deps;
    return firstFreeName(operation.name, GROUP_NAME_MAX, async (name) => {
      try {
        const group = await coder.createGroup(operation.orgId, { name, display_name: operation.display_name });
        progress.createdCoderIds.push(group.id);
        return this.appliedFrom(group, mappedName);
      } catch (err) {
        if (!isConflict(err)) throw err;
        const existing = await coder.groupByName(operation.orgId, name);
        if (!existing) throw new ReconcileError('not_converging', `Coder answered 409 for group "${name}" but holds no group of that name`, false);
        // A group another SCIM group claims is the bridge's own (a suffix resolves the clash, see takeClaim); an
        // unclaimed one existed before the bridge, and only ADOPT_GROUPS lets the bridge take it over.
        if ((await claims.holder('group', existing.id)) === null) {
          const verdict = groupAdoption(existing, this.deps.adoption.groups);
          if (!verdict.adopt) throw new ReconcileError('conflict', verdict.reason, true);
        }
        if ((await takeClaim(this.deps, 'group', existing.id, id)).taken) return this.appliedFrom(existing, mappedName);
        throw err;
      }
    });
  }

  /**
   * The bridge removes only the grants it may manage: members that are Coder users of SCIM users (claimed). Others,
   * such as the existing members of an adopted group, privileged accounts among them, stay; the bridge then
   * forgets them, so that it does not plan their removal again.
   */
  private async splitRemovals(memberIds: string[]): Promise<{ removable: string[]; kept: Set<string> }> {
    const holders = await this.deps.claims.holders('user', memberIds);
    return {
      removable: memberIds.filter((_, i) => holders[i] !== null),
      kept: new Set(memberIds.filter((_, i) => holders[i] === null)),
    };
  }

  private appliedFrom(group: Group, mappedName: string | undefined): AppliedGroupState {
    return { coderId: group.id, name: group.name, displayName: group.display_name, memberCoderIds: group.members.map((m) => m.id), mappedName };
  }
}

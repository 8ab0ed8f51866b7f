import type { CoderClient } from '../coder/client';
import { CoderApiError, isNotFound, isTransient } from '../coder/errors';
import type { UserRoles } from '../coder/types';
import type { ScimDocument, StoredResource } from '../model/resource';
import type { CompiledPolicy } from '../policy/compile';
import { EMPTY_USER_GRANTS, planGroupAccess, planUserAccess, planUserChange, type UserAccess, type UserAccessChange, type UserGrantRecord } from '../policy/plan';
import type { DesiredStore } from '../store/types';
import type { AdoptionPolicy } from './adoption';
import { adoptedButPrivileged, privilegeOf } from './adoption-rules';
import { accessRefusal, ReconcileError, type AccessCall } from './errors';
import type { AppliedUserAccess, AppliedUserState } from './plan';
import type { AccessContext, Progress } from './reconcile-resource';
import {
  addsAnything,
  asksNothing,
  coderAccessOf,
  isEmptyGrants,
  NO_ACCESS,
  recordAfter,
  recordBeforeCalls,
  sameUserAccess,
  scimRoleValues,
  workspacesToStop,
} from './user-access-plan';

/**
 * The access policy applied to one user that exists in Coder: site roles, organization memberships and their roles
 * (policy/plan.ts decides; this file reads Coder and calls it). An unchanged ask costs no Coder call. The record of
 * what the bridge granted is written after each call, so a failure part-way neither repeats nor forgets a grant.
 */

export interface UserAccessDeps {
  coder: CoderClient;
  store: DesiredStore;
  adoption: AdoptionPolicy;
  access?: AccessContext;
}

/** 'replan': Coder no longer has the user (deleted outside the bridge): it is created or adopted again. */
export type AccessStep = 'continue' | 'replan';

export class UserAccessApplier {
  constructor(private readonly deps: UserAccessDeps) {}

  /**
   * Converges the user's grants with the policy. `stored` null: the SCIM user is deleted, and the bridge takes back
   * all it granted. `force` (a resync) reads Coder even when the ask is unchanged, to repair hand-made drift.
   */
  async converge(id: string, stored: StoredResource | null, progress: Progress<AppliedUserState>, force: boolean): Promise<AccessStep> {
    const applied = progress.applied;
    const access = this.deps.access;
    if (!applied || !access) return 'continue';
    const policy = access.policy.current();
    const record = applied.access;
    // No policy and nothing granted: the hot path of a bridge without ACCESS_POLICY_FILE reads nothing more.
    if (!policy && !record) return 'continue';
    const desired = stored && policy ? await this.desired(id, stored.doc, policy) : NO_ACCESS;
    if (!force && record && !record.partial && sameUserAccess(desired, record.desired)) return 'continue';
    const granted = record?.granted ?? EMPTY_USER_GRANTS;
    if (asksNothing(desired, access.orgs.base.name) && isEmptyGrants(granted)) {
      // Nothing asked, nothing to take back: no Coder call, only the record follows the ask.
      if (record) progress.applied = { ...applied, access: { ...record, desired, partial: undefined } };
      return 'continue';
    }
    return this.apply(id, desired, granted, progress, access);
  }

  /**
   * Ids of the organizations beyond the base one the policy places the user in: a user created with them in
   * `organization_ids` needs no join call. One Coder lacks is left out (the access step reports it; the user is
   * created all the same).
   */
  async organizationsAtCreation(id: string, stored: StoredResource): Promise<string[]> {
    const access = this.deps.access;
    const policy = access?.policy.current();
    if (!access || !policy) return [];
    const names = Object.keys((await this.desired(id, stored.doc, policy)).organizations).filter((org) => org !== access.orgs.base.name);
    return (await Promise.all(names.map((org) => access.orgs.lookup(org)))).filter((orgId): orgId is string => orgId !== undefined);
  }

  /** A user just created in `orgIds`: the memberships beyond the base organization are the bridge's grants. */
  createdIn(applied: AppliedUserState, orgIds: readonly string[]): AppliedUserState {
    const base = this.deps.access?.orgs.base.id;
    const organizations: UserGrantRecord['organizations'] = {};
    for (const orgId of orgIds) {
      const name = orgId === base ? undefined : this.deps.access?.orgs.nameOf(orgId);
      if (name !== undefined) organizations[name] = { member: true, roles: [] };
    }
    if (Object.keys(organizations).length === 0) return applied;
    // Partial: the rest of the ask (roles) is applied by the access step that follows.
    return { ...applied, access: { granted: { siteRoles: [], organizations }, desired: NO_ACCESS, organizationIds: [...orgIds], partial: true } };
  }

  /** The user's SCIM groups (by displayName) and `roles` values, through the policy. */
  private async desired(id: string, doc: ScimDocument, policy: CompiledPolicy): Promise<UserAccess> {
    // A policy matching no group (Entra app roles only) costs no read of the user's groups.
    const matchesGroups = policy.byGroup.size > 0 || policy.groupGlobs.length > 0;
    const groups = matchesGroups ? await this.groupsOf(id) : [];
    return planUserAccess(policy, { groups: groups.map((group) => String(group.doc.displayName ?? '')), roles: scimRoleValues(doc) });
  }

  private async groupsOf(id: string): Promise<StoredResource[]> {
    const groupIds = await this.deps.store.userGroupIds(id);
    if (groupIds.length === 0) return [];
    return (await this.deps.store.getGroups(groupIds)).filter((group): group is StoredResource => group !== null);
  }

  /**
   * Of the user's SCIM groups (ids), those that live in one of `orgIds` under the current policy: once the user has
   * joined such an organization, they can take the user in.
   */
  async groupsIn(groupIds: string[], orgIds: ReadonlySet<string>): Promise<string[]> {
    const policy = this.deps.access?.policy.current();
    if (!policy || groupIds.length === 0) return [];
    const groups = (await this.deps.store.getGroups(groupIds)).filter((group): group is StoredResource => group !== null);
    const living: string[] = [];
    for (const group of groups) {
      const orgId = await this.deps.access!.orgs.lookup(planGroupAccess(policy, String(group.doc.displayName ?? '')).organization);
      if (orgId !== undefined && orgIds.has(orgId)) living.push(group.id);
    }
    return living;
  }

  /**
   * What a resync would change for this user (`resync --dry-run`), planned exactly as `converge` plans it, with
   * `reads` answering the role read (a resync reads every user's roles in a few list calls). Undefined when the
   * policy asks nothing of the user, or Coder no longer has it. Throws as `converge` would for an account the
   * bridge does not manage.
   */
  async preview(id: string, doc: ScimDocument | null, applied: AppliedUserState, reads: Pick<CoderClient, 'userRoles'>): Promise<UserAccessChange | undefined> {
    const access = this.deps.access;
    const policy = access?.policy.current();
    const record = applied.access;
    if (!access || (!policy && !record)) return undefined;
    const desired = doc && policy ? await this.desired(id, doc, policy) : NO_ACCESS;
    const granted = record?.granted ?? EMPTY_USER_GRANTS;
    if (asksNothing(desired, access.orgs.base.name) && isEmptyGrants(granted)) return undefined;
    const planned = await this.plan(id, desired, granted, applied, access, reads);
    return planned === 'replan' ? undefined : planned.change;
  }

  /** One read of Coder's roles, then the change: shared by `apply` and `preview`. 'replan': Coder lost the user. */
  private async plan(
    id: string,
    desired: UserAccess,
    granted: UserGrantRecord,
    applied: AppliedUserState,
    access: AccessContext,
    reads: Pick<CoderClient, 'userRoles'>,
  ): Promise<{ change: UserAccessChange; ids: Map<string, string>; owned: UserGrantRecord; roles: UserRoles } | 'replan'> {
    let roles: UserRoles;
    try {
      roles = await reads.userRoles(applied.coderId);
    } catch (err) {
      if (isNotFound(err)) return 'replan';
      throw err;
    }
    await this.refuseIfUnmanaged(id, applied, roles.roles, granted);

    const ids = new Map<string, string>();
    for (const org of Object.keys(desired.organizations)) ids.set(org, await access.orgs.idOf(org));
    const owned: UserGrantRecord = { siteRoles: granted.siteRoles, organizations: {} };
    for (const [org, grant] of Object.entries(granted.organizations)) {
      const orgId = ids.get(org) ?? (await access.orgs.lookup(org));
      // An organization deleted in Coder took the bridge's grants there with it.
      if (orgId === undefined) continue;
      ids.set(org, orgId);
      owned.organizations[org] = grant;
    }
    const names = new Map([...ids].map(([name, orgId]) => [orgId, name]));
    const actual = coderAccessOf(roles, (orgId) => names.get(orgId) ?? access.orgs.nameOf(orgId));
    return { change: planUserChange(desired, owned, actual, access.orgs.base.name), ids, owned, roles };
  }

  /**
   * One read of Coder, then joins, organization roles, site roles and leaves, the record kept after each call (and,
   * for what the calls add, written before them: recordBeforeCalls).
   */
  private async apply(id: string, desired: UserAccess, granted: UserGrantRecord, progress: Progress<AppliedUserState>, access: AccessContext): Promise<AccessStep> {
    const { coder } = this.deps;
    const applied = progress.applied!;
    const { coderId, username } = applied;
    const planned = await this.plan(id, desired, granted, applied, access, coder);
    if (planned === 'replan') return 'replan';
    const { change, ids, owned, roles } = planned;

    let record: AppliedUserAccess = {
      granted: owned,
      desired: applied.access?.desired ?? desired,
      organizationIds: Object.keys(roles.organization_roles ?? {}),
      partial: true,
    };
    if (applied.access?.workspacesStopped) record.workspacesStopped = true;
    const beforeCalls = record;
    if (addsAnything(change)) {
      record = recordBeforeCalls(record, change);
      progress.applied = { ...progress.applied!, access: record };
      await progress.checkpoint?.();
    }
    const done = (next: AppliedUserAccess, operation: string) => {
      record = next;
      progress.applied = { ...progress.applied!, access: record };
      progress.operations.push(operation);
    };
    const call = async (what: AccessCall, attempt: () => Promise<unknown>): Promise<void> => {
      try {
        await attempt();
      } catch (err) {
        // Refused outright: nothing was applied, so nothing of it is the bridge's. (No answer, or a 5xx, may have been.)
        if (err instanceof CoderApiError && !isTransient(err)) {
          record = recordAfter.refused(record, beforeCalls, what);
          progress.applied = { ...progress.applied!, access: record };
        }
        throw accessRefusal(err, what, username) ?? err;
      }
    };

    try {
      for (const org of change.join) {
        const orgId = ids.get(org)!;
        await call({ call: 'orgMember', organization: org }, () => coder.addOrgMember(orgId, coderId));
        done(recordAfter.join(record, org, orgId), 'joinOrganization');
      }
      for (const [org, roleChange] of Object.entries(change.organizationRoles)) {
        await call({ call: 'orgRoles', organization: org }, () => coder.putOrgMemberRoles(ids.get(org)!, coderId, roleChange.final));
        done(recordAfter.orgRoles(record, org, roleChange.owned), 'putOrganizationRoles');
      }
      if (change.siteRoles) {
        const siteRoles = change.siteRoles;
        await call({ call: 'siteRoles' }, () => coder.putSiteRoles(coderId, siteRoles.final));
        done(recordAfter.siteRoles(record, siteRoles.owned), 'putSiteRoles');
      }
      for (const org of change.leave) {
        const orgId = ids.get(org)!;
        try {
          await coder.removeOrgMember(orgId, coderId);
        } catch (err) {
          // Not a member any more (left by hand): nothing left to take back.
          if (!isNotFound(err)) throw err;
        }
        done(recordAfter.leave(record, org, orgId), 'leaveOrganization');
      }
    } catch (err) {
      if (isNotFound(err)) return 'replan';
      // What succeeded is recorded (partial); the failure goes up to be retried, or recorded when permanent.
      progress.applied = { ...progress.applied!, access: record };
      throw err;
    }
    const final: AppliedUserAccess = { granted: change.next, desired, organizationIds: record.organizationIds };
    if (record.workspacesStopped) final.workspacesStopped = true;
    progress.applied = { ...progress.applied!, access: final };
    return 'continue';
  }

  /**
   * Never the token's own user (Coder refuses it anyway); an adopted user only while it holds no site role but those
   * the bridge granted (design rule 8, as for its lifecycle).
   */
  private async refuseIfUnmanaged(id: string, applied: AppliedUserState, siteRoles: string[], granted: UserGrantRecord): Promise<void> {
    const tokenUserId = await this.deps.adoption.tokenUserId();
    if (applied.coderId !== tokenUserId && !applied.adopted) return;
    const user = { id: applied.coderId, roles: siteRoles.map((name) => ({ name, display_name: name })) };
    const privilege = privilegeOf(user, tokenUserId, granted.siteRoles);
    if (privilege) throw new ReconcileError('conflict', adoptedOrOwn(id, applied, privilege), true);
  }

  /**
   * `onSuspend: stopWorkspaces`: once per suspension, the suspended user's running workspaces are stopped (a failed
   * stop is retried like any transient error; stopped ones are not stopped again). Activation clears the mark.
   */
  async stopWorkspacesIfSuspended(progress: Progress<AppliedUserState>): Promise<void> {
    const applied = progress.applied;
    if (!applied) return;
    const record = applied.access;
    if (applied.status !== 'suspended') {
      if (record?.workspacesStopped) progress.applied = { ...applied, access: { ...record, workspacesStopped: undefined } };
      return;
    }
    if (record?.workspacesStopped || this.deps.access?.policy.current()?.onSuspend !== 'stopWorkspaces') return;
    const { coder } = this.deps;
    for (const workspace of workspacesToStop(await coder.workspacesOf(applied.username), applied.coderId)) {
      await coder.stopWorkspace(workspace.id);
      progress.operations.push('stopWorkspace');
    }
    const base: AppliedUserAccess = record ?? { granted: EMPTY_USER_GRANTS, desired: NO_ACCESS, organizationIds: [] };
    progress.applied = { ...applied, access: { ...base, workspacesStopped: true } };
  }
}

function adoptedOrOwn(id: string, applied: AppliedUserState, privilege: string): string {
  return applied.adopted
    ? adoptedButPrivileged(id, applied.username, privilege)
    : `SCIM user ${id} is Coder user ${applied.username}, which the bridge never changes: ${privilege}`;
}

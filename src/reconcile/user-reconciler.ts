import type { CoderClient } from '../coder/client';
import { CoderApiError, isNotFound } from '../coder/errors';
import type { CreateUserRequest, User } from '../coder/types';
import type { StoredResource } from '../model/resource';
import { firstFreeName, isConflict, takeClaim, type AdoptionPolicy } from './adoption';
import { adoptedButPrivileged, compareEmails, emailClash, privilegeOf, userAdoption } from './adoption-rules';
import { ReconcileError } from './errors';
import { USERNAME_MAX, mapUser, type DesiredUser } from './mapping';
import { isNote, planUser, type AppliedUserState, type PlanContext, type UserOperation } from './plan';
import { UserAccessApplier } from './user-access';
import { newOrganizationIds } from './user-access-plan';
import { reconcileResource, type Progress, type ReconcileDeps, type ReconcileOptions, type ReconcileResult, type Reconciler } from './reconcile-resource';

/** Plans re-made after Coder disagreed (409, 404, re-created user) before the job is retried later instead. */
const MAX_ROUNDS = 5;
/** DELETE /users/{user} answers 417 when the user still owns workspaces. */
const HAS_WORKSPACES = 417;

export interface UserReconcilerDeps extends ReconcileDeps {
  coder: CoderClient;
  ctx: PlanContext;
  adoption: AdoptionPolicy;
}

type Step = 'continue' | 'replan';

function noteOf(operation: Extract<UserOperation, { op: 'emailNotAppliable' }>): string {
  return `e-mail change to ${operation.to} not appliable: Coder's API cannot change a user's e-mail (Coder keeps ${operation.from})`;
}

export class UserReconciler implements Reconciler {
  private readonly access: UserAccessApplier;

  constructor(private readonly deps: UserReconcilerDeps) {
    this.access = new UserAccessApplier(deps);
  }

  reconcile(id: string, options: ReconcileOptions = {}): Promise<ReconcileResult> {
    return reconcileResource<AppliedUserState>(
      id,
      options,
      {
        kind: 'user',
        load: (userId) => this.deps.store.getUser(userId),
        converge: (userId, stored, progress) => this.converge(userId, stored, progress, options.force ?? false),
      },
      this.deps,
    );
  }

  /**
   * The user's lifecycle, then the access policy once the user exists in Coder. A user deleted in SCIM gives back
   * the bridge's grants before it is suspended or deleted; a deactivated one keeps them. A suspended user's
   * workspaces are stopped (onSuspend) before any grant is changed, so a refused grant cannot hold that up.
   */
  private async converge(id: string, stored: StoredResource | null, progress: Progress<AppliedUserState>, force: boolean): Promise<void> {
    const desired = stored ? mapUser(stored.doc) : null;
    const before = progress.applied;
    let rolesChecked = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const operations = planUser(desired, progress.applied, this.deps.ctx);
      if (stored) await this.createInPolicyOrganizations(id, stored, operations);
      const notes = operations.filter(isNote).map(noteOf);
      if (!rolesChecked && progress.applied?.adopted && operations.some((operation) => !isNote(operation))) {
        await this.refuseIfPrivileged(id, progress.applied);
        rolesChecked = true;
      }
      // Deprovisioning is never held up by the grants: a failed take-back is reported once the user is suspended.
      let takeBackFailure: unknown;
      if (!desired) {
        try {
          if ((await this.access.converge(id, null, progress, force)) === 'replan') {
            progress.applied = undefined;
            continue;
          }
        } catch (err) {
          takeBackFailure = err;
        }
      }
      if (!(await this.applyAll(id, desired, operations, progress))) continue;
      await this.access.stopWorkspacesIfSuspended(progress);
      // A deleted Coder user holds nothing any more: only a suspended one still has grants to take back.
      if (takeBackFailure !== undefined && progress.applied) throw takeBackFailure;
      if (desired && (await this.access.converge(id, stored, progress, force)) === 'replan') {
        progress.applied = undefined;
        continue;
      }
      progress.notes.unshift(...notes);
      if (desired) this.requeueGroupsIfLanded(id, before, progress);
      return;
    }
    throw new ReconcileError('not_converging', `Coder kept disagreeing with the plan for user ${id}`, false);
  }

  /** A user is created in the organizations the access policy places it in: one call instead of one per organization. */
  private async createInPolicyOrganizations(id: string, stored: StoredResource, operations: UserOperation[]): Promise<void> {
    const create = operations.find((operation): operation is Extract<UserOperation, { op: 'createUser' }> => operation.op === 'createUser');
    if (!create) return;
    const orgIds = await this.access.organizationsAtCreation(id, stored);
    if (orgIds.length > 0) create.body = { ...create.body, organization_ids: [...new Set([...create.body.organization_ids, ...orgIds])] };
  }

  /** False when Coder disagreed and the plan must be made again against the corrected state. */
  private async applyAll(id: string, desired: DesiredUser | null, operations: UserOperation[], progress: Progress<AppliedUserState>): Promise<boolean> {
    for (const operation of operations) {
      if (isNote(operation)) continue;
      progress.operations.push(operation.op);
      if ((await this.apply(id, desired, operation, progress)) === 'replan') return false;
    }
    return true;
  }

  private async apply(id: string, desired: DesiredUser | null, operation: UserOperation, progress: Progress<AppliedUserState>): Promise<Step> {
    const { coder } = this.deps;
    if (operation.op === 'createUser') {
      const applied = await this.createOrAdopt(id, operation.body, desired!.username, progress);
      progress.applied = progress.createdCoderIds.includes(applied.coderId) ? this.access.createdIn(applied, operation.body.organization_ids) : applied;
      return 'replan';
    }
    const applied = progress.applied!;
    try {
      switch (operation.op) {
        case 'addOrgMember':
          await coder.addOrgMember(operation.orgId, applied.coderId);
          progress.applied = { ...applied, orgMember: true };
          return 'continue';
        case 'updateProfile': {
          const user = await firstFreeName(operation.username, USERNAME_MAX, (username) => coder.updateProfile(applied.coderId, { username, name: operation.name }));
          progress.applied = { ...applied, username: user.username, name: user.name, mappedUsername: desired?.username ?? applied.mappedUsername };
          return 'continue';
        }
        case 'suspend':
          progress.applied = { ...applied, status: (await coder.suspendUser(applied.coderId)).status };
          return 'continue';
        case 'activate':
          progress.applied = { ...applied, status: (await coder.activateUser(applied.coderId)).status };
          return 'continue';
        case 'deleteUser':
          return await this.deleteOrSuspend(applied, progress);
        case 'emailNotAppliable':
          return 'continue';
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // The Coder user is gone (deleted outside the bridge): forget it, and create or adopt again.
      progress.applied = undefined;
      return 'replan';
    }
  }

  private async deleteOrSuspend(applied: AppliedUserState, progress: Progress<AppliedUserState>): Promise<Step> {
    const { coder } = this.deps;
    try {
      await coder.deleteUser(applied.coderId);
    } catch (err) {
      if (!(err instanceof CoderApiError && err.status === HAS_WORKSPACES)) throw err;
      progress.applied = { ...applied, status: (await coder.suspendUser(applied.coderId)).status };
      progress.notes.push(`delete refused by Coder (${err.message}): suspended instead`);
      return 'continue';
    }
    progress.applied = undefined;
    return 'continue';
  }

  /**
   * An adopted user is the bridge's only while it is an ordinary account: read its roles before changing it.
   * (A user the bridge created stays its own whatever roles it gains, and costs no such read.)
   */
  private async refuseIfPrivileged(id: string, applied: AppliedUserState): Promise<void> {
    const user = await this.deps.coder.user(applied.coderId);
    // Gone from Coder: the operation's 404 leads to a fresh create-or-adopt, under the adoption rules.
    if (!user) return;
    // Site roles the access policy granted are the bridge's own doing, not privilege.
    const privilege = privilegeOf(user, await this.deps.adoption.tokenUserId(), applied.access?.granted.siteRoles);
    if (privilege) {
      throw new ReconcileError('conflict', adoptedButPrivileged(id, user.username, privilege), true);
    }
  }

  /**
   * One POST on the hot path. On 409 the Coder user holding the e-mail is adopted when the rules allow it
   * (adoption-rules.ts) and no other SCIM user claims it; when no user holds the e-mail, the username is what
   * is taken, and the next suffix is tried. A user is never adopted by its username.
   */
  private createOrAdopt(id: string, body: CreateUserRequest, mappedUsername: string, progress: Progress<AppliedUserState>): Promise<AppliedUserState> {
    const { coder } = this.deps;
    // Whatever the username, the same e-mail clashes: it is looked up once.
    let holdersOfEmail: Promise<User[]> | undefined;
    return firstFreeName(body.username, USERNAME_MAX, async (username) => {
      try {
        const user = await coder.createUser({ ...body, username });
        progress.createdCoderIds.push(user.id);
        return this.appliedFrom(user, mappedUsername);
      } catch (err) {
        if (!isConflict(err)) throw err;
        holdersOfEmail ??= coder.findUsersByEmail(body.email);
        const holders = await holdersOfEmail;
        if (holders.length === 0) throw err;
        return this.adoptByEmail(id, body.email, holders, mappedUsername);
      }
    });
  }

  private async adoptByEmail(id: string, email: string, holders: User[], mappedUsername: string): Promise<AppliedUserState> {
    const candidate = holders.find((user) => compareEmails(user.email, email) === 'same');
    if (!candidate) throw new ReconcileError('conflict', emailClash(email, holders[0]), true);
    // A claimed Coder user is the bridge's own (this SCIM user's, or one takeClaim may hand over): the rules for
    // taking over an account the bridge found in Coder apply only to an unclaimed one.
    const unclaimed = (await this.deps.claims.holder('user', candidate.id)) === null;
    if (unclaimed) {
      const verdict = userAdoption(candidate, email, await this.deps.adoption.tokenUserId());
      if (!verdict.adopt) throw new ReconcileError('conflict', verdict.reason, true);
    }
    const claim = await takeClaim(this.deps, 'user', candidate.id, id);
    if (!claim.taken) {
      throw new ReconcileError('conflict', `e-mail ${email} belongs to Coder user ${candidate.username}, already provisioned for SCIM user ${claim.holder}`, true);
    }
    const applied = this.appliedFrom(candidate, mappedUsername);
    return unclaimed ? { ...applied, adopted: true } : applied;
  }

  private appliedFrom(user: User, mappedUsername: string): AppliedUserState {
    return {
      coderId: user.id,
      username: user.username,
      email: user.email,
      name: user.name,
      status: user.status,
      orgMember: user.organization_ids.includes(this.deps.ctx.orgId),
      mappedUsername,
    };
  }

  /**
   * Groups skip members that are not in Coder yet; once the user lands (or comes back under a new Coder id, after
   * its Coder account was deleted outside the bridge), it is marked as a changed member of each of its groups, and
   * they are reconciled again. Its groups are read only once its landing is recorded: a group reconcile that read
   * this user as absent started after its membership was written, so the read sees that membership (read earlier,
   * it could miss a group created while Coder was being called, and the membership would wait for the next resync).
   * The same holds for another organization the access policy made the user a member of: the groups living there.
   */
  private requeueGroupsIfLanded(id: string, before: AppliedUserState | undefined, progress: Progress<AppliedUserState>): void {
    const after = progress.applied;
    const sameUser = before?.coderId === after?.coderId;
    const landed = after?.orgMember && (!sameUser || !before?.orgMember);
    const joined = new Set(newOrganizationIds(sameUser ? before?.access : undefined, after?.access, this.deps.ctx.orgId));
    if (!landed && joined.size === 0) return;
    progress.followUpsOnceRecorded = async () => {
      const groupIds = await this.deps.store.userGroupIds(id);
      const requeued = landed ? groupIds : await this.access.groupsIn(groupIds, joined);
      return requeued.map((groupId) => ({ kind: 'group' as const, id: groupId, changedMember: id }));
    };
  }
}

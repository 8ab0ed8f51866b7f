import type { CoderClient } from '../coder/client';
import type { TemplateAcl, Template, User, UserRoles } from '../coder/types';
import type { GroupAccessChange, UserAccessChange } from '../policy/plan';
import type { TemplateAccess } from '../policy/schema';
import type { ResourceType } from '../model/resource-ref';
import type { DesiredStore } from '../store/types';
import type { AdoptionPolicy } from './adoption';
import type { ManagedGroup, ManagedUser } from './drift';
import { planGroupGrants, viewGroup, type GrantReads } from './group-access';
import { mapGroup } from './mapping';
import type { AppliedGroupState } from './plan';
import type { AccessContext } from './reconcile-resource';
import { UserAccessApplier } from './user-access';

/**
 * What the access policy would change in Coder, per user and group, planned by the reconcilers' own planning
 * (user-access.ts, group-access.ts) without any write: the `policy` section of a resync report. A full resync
 * reads every user's roles in a few list calls (the users, and the members of each organization) and each
 * template's ACL once, instead of once per resource.
 */

/** One grant, as the report names it. For a group, `organization` is the organization its Coder group lives in. */
export type PolicyGrant =
  | { siteRole: string }
  | { organization: string; role?: string }
  | { template: string; access: TemplateAccess }
  | { quotaAllowance: number }
  | { avatarUrl: string }
  | { displayName: string };

export interface PolicyChange {
  type: ResourceType;
  id: string;
  /** The Coder username or group name. */
  name: string;
  add: PolicyGrant[];
  remove: PolicyGrant[];
}

export interface PolicyPreviewReport {
  /** Users and groups in Coder whose access was planned. */
  evaluated: number;
  changes: PolicyChange[];
}

export interface PolicyPreviewDeps {
  /** Only read: the planning never writes. */
  coder: CoderClient;
  store: DesiredStore;
  adoption: AdoptionPolicy;
  access: AccessContext;
  /** CODER_ORGANIZATION's id: where a group the policy does not place lives. */
  baseOrgId: string;
}

export interface PreviewInput {
  users: ManagedUser[];
  groups: ManagedGroup[];
  /** Every Coder user (a full resync read them): their roles are then read per organization, not per user. */
  coderUsers?: User[];
  /** Resources the resync already reports as impossible to plan: not planned again. */
  skip?: ReadonlySet<string>;
}

export interface PreviewProblem {
  type: ResourceType;
  id: string;
  err: unknown;
}

function memo<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key) => {
    if (!cache.has(key)) cache.set(key, read(key));
    return cache.get(key)!;
  };
}

/** Each user's roles, from the user list (site roles) and every organization's member list (organization roles). */
async function bulkUserRoles(coder: CoderClient, users: User[]): Promise<Map<string, UserRoles>> {
  const roles = new Map(users.map((user): [string, UserRoles] => [user.id, { roles: user.roles.map((role) => role.name), organization_roles: {} }]));
  for (const org of await coder.organizations()) {
    for (const member of await coder.orgMembers(org.id)) {
      const entry = roles.get(member.user_id);
      if (entry) entry.organization_roles[org.id] = member.roles.map((role) => role.name);
    }
  }
  return roles;
}

function userGrants(change: UserAccessChange): Pick<PolicyChange, 'add' | 'remove'> {
  const add: PolicyGrant[] = [];
  const remove: PolicyGrant[] = [];
  for (const role of change.siteRoles?.add ?? []) add.push({ siteRole: role });
  for (const role of change.siteRoles?.remove ?? []) remove.push({ siteRole: role });
  for (const org of change.join) add.push({ organization: org });
  for (const org of change.leave) remove.push({ organization: org });
  for (const [org, roles] of Object.entries(change.organizationRoles)) {
    for (const role of roles.add) add.push({ organization: org, role });
    for (const role of roles.remove) remove.push({ organization: org, role });
  }
  return { add, remove };
}

/** A PATCH field the policy no longer sets puts back the default: the bridge's value is what goes. */
function groupGrants(change: GroupAccessChange, applied: AppliedGroupState, templateName: (id: string) => string): Pick<PolicyChange, 'add' | 'remove'> {
  const add: PolicyGrant[] = [];
  const remove: PolicyGrant[] = [];
  const granted = applied.access;
  const { quota_allowance: quota, avatar_url: avatar } = change.patch;
  if (quota !== undefined) {
    if (change.next.quotaAllowance === undefined) remove.push({ quotaAllowance: granted?.quotaAllowance ?? quota });
    else add.push({ quotaAllowance: quota });
  }
  if (avatar !== undefined) {
    if (change.next.avatarUrl === undefined) remove.push({ avatarUrl: granted?.avatarUrl ?? avatar });
    else add.push({ avatarUrl: avatar });
  }
  for (const [id, access] of Object.entries(change.acl)) {
    if (access === '') remove.push({ template: templateName(id), access: granted?.templates[id] ?? 'use' });
    else add.push({ template: templateName(id), access });
  }
  return { add, remove };
}

export async function previewPolicy(deps: PolicyPreviewDeps, input: PreviewInput, onProblem: (problem: PreviewProblem) => void): Promise<PolicyPreviewReport> {
  const { coder, access } = deps;
  const templates = memo((orgId) => coder.templates(orgId));
  const acls = memo<TemplateAcl>((id) => coder.templateAcl(id));
  const templateNames = new Map<string, string>();
  const reads: GrantReads = {
    groupSummary: (id) => coder.groupSummary(id),
    templates: async (orgId) => {
      const list: Template[] = await templates(orgId);
      for (const template of list) templateNames.set(template.id, template.name);
      return list;
    },
    templateAcl: acls,
  };
  // Read on the first user whose ask needs Coder's roles: a policy that asks nothing of anyone reads no member list.
  let bulk: Promise<Map<string, UserRoles>> | undefined;
  const coderUsers = input.coderUsers;
  const userRoles = {
    userRoles: async (id: string) => {
      if (!coderUsers) return coder.userRoles(id);
      bulk ??= bulkUserRoles(coder, coderUsers);
      return (await bulk).get(id) ?? coder.userRoles(id);
    },
  };
  const applier = new UserAccessApplier({ coder, store: deps.store, adoption: deps.adoption, access });
  const skip = input.skip ?? new Set<string>();

  const report: PolicyPreviewReport = { evaluated: 0, changes: [] };
  const record = (type: ResourceType, id: string, name: string, grants: Pick<PolicyChange, 'add' | 'remove'>) => {
    report.evaluated += 1;
    if (grants.add.length > 0 || grants.remove.length > 0) report.changes.push({ type, id, name, ...grants });
  };

  for (const user of input.users) {
    const applied = user.sync?.applied;
    if (!applied || skip.has(`user:${user.id}`)) continue;
    try {
      const change = await applier.preview(user.id, user.desired, applied, userRoles);
      record('Users', user.id, applied.username, change ? userGrants(change) : { add: [], remove: [] });
    } catch (err) {
      onProblem({ type: 'Users', id: user.id, err });
    }
  }

  for (const group of input.groups) {
    const applied = group.sync?.applied;
    // A group deleted in SCIM is deleted in Coder, its grants with it: the resync's operations say so.
    if (!applied || !group.desired || skip.has(`group:${group.id}`)) continue;
    try {
      const view = await viewGroup(access, deps.baseOrgId, mapGroup(group.desired));
      if (!view.access) continue;
      const grants: Pick<PolicyChange, 'add' | 'remove'> = { add: [], remove: [] };
      const livesIn = applied.organizationId ?? deps.baseOrgId;
      if (livesIn !== view.orgId) {
        // Moved: made again in the new organization, where every grant is planned afresh.
        grants.add.push({ organization: access.orgs.nameOf(view.orgId) ?? view.access.organization });
        grants.remove.push({ organization: access.orgs.nameOf(livesIn) ?? livesIn });
      } else {
        const change = await planGroupGrants(reads, view.access, view.orgId, applied);
        if (change) Object.assign(grants, groupGrants(change, applied, (id) => templateNames.get(id) ?? id));
      }
      const policyNamed = view.access.displayName !== undefined || applied.scimDisplayName !== undefined;
      if (policyNamed && view.desired.displayName !== applied.displayName) grants.add.push({ displayName: view.desired.displayName });
      record('Groups', group.id, applied.name, grants);
    } catch (err) {
      onProblem({ type: 'Groups', id: group.id, err });
    }
  }
  return report;
}

/** `+ site role template-admin`, `- organization data-science role organization-admin`, `+ template python-* use`. */
export function describeGrant(grant: PolicyGrant): string {
  if ('siteRole' in grant) return `site role ${grant.siteRole}`;
  if ('template' in grant) return `template ${grant.template} ${grant.access}`;
  if ('organization' in grant) return grant.role === undefined ? `organization ${grant.organization}` : `organization ${grant.organization} role ${grant.role}`;
  if ('quotaAllowance' in grant) return `quota ${grant.quotaAllowance}`;
  if ('avatarUrl' in grant) return `avatar ${grant.avatarUrl}`;
  return `display name "${grant.displayName}"`;
}

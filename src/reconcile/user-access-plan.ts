import type { UserRoles, Workspace } from '../coder/types';
import type { ScimDocument } from '../model/resource';
import type { CoderUserAccess, UserAccess, UserAccessChange, UserGrantRecord } from '../policy/plan';
import type { AccessCall } from './errors';
import type { AppliedUserAccess } from './plan';

/**
 * The pure side of applying the access policy to one user (user-access.ts does the I/O): what the SCIM document
 * says, how Coder's answer reads in the policy's terms, and the record the bridge keeps after each Coder call.
 */

/** Implied for every user and every member: Coder never stores them, and the planner must never send them. */
const IMPLIED_SITE_ROLE = 'member';
const IMPLIED_ORG_ROLE = 'organization-member';

export const NO_ACCESS: UserAccess = Object.freeze({ siteRoles: [], organizations: {} }) as UserAccess;

/**
 * Values of the SCIM User `roles` attribute. Entra sends app roles as `roles[primary eq "True"].value` (one) or a
 * `roles` array of {value, display, type, primary}; an entry without a string value grants nothing.
 */
export function scimRoleValues(doc: ScimDocument): string[] {
  const roles = (doc as { roles?: unknown }).roles;
  if (!Array.isArray(roles)) return [];
  const values = roles.flatMap((role) => {
    const value = typeof role === 'string' ? role : (role as { value?: unknown } | null)?.value;
    return typeof value === 'string' && value !== '' ? [value] : [];
  });
  return [...new Set(values)];
}

export function sameUserAccess(a: UserAccess, b: UserAccess): boolean {
  const sameList = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((value, i) => value === y[i]);
  const orgsA = Object.keys(a.organizations).sort();
  const orgsB = Object.keys(b.organizations).sort();
  return sameList(a.siteRoles, b.siteRoles) && sameList(orgsA, orgsB) && orgsA.every((org) => sameList(a.organizations[org], b.organizations[org]));
}

/**
 * The ask needs no Coder call of its own: no site role, no organization role, and no organization but `baseOrg`
 * (every user in a group the policy leaves in place asks for it, and the user's lifecycle already made it a member).
 */
export function asksNothing(access: UserAccess, baseOrg: string): boolean {
  return access.siteRoles.length === 0 && Object.entries(access.organizations).every(([org, roles]) => org === baseOrg && roles.length === 0);
}

export function isEmptyGrants(granted: UserGrantRecord): boolean {
  return granted.siteRoles.length === 0 && Object.keys(granted.organizations).length === 0;
}

/**
 * Coder's roles of the user in the planner's terms (organizations by name). Organizations the caller cannot name
 * are left out: the policy neither names them nor did the bridge grant anything there.
 */
export function coderAccessOf(roles: UserRoles, nameOf: (orgId: string) => string | undefined): CoderUserAccess {
  const organizations: Record<string, string[]> = {};
  for (const [orgId, orgRoles] of Object.entries(roles.organization_roles ?? {})) {
    const name = nameOf(orgId);
    if (name !== undefined) organizations[name] = (orgRoles ?? []).filter((role) => role !== IMPLIED_ORG_ROLE);
  }
  return { siteRoles: (roles.roles ?? []).filter((role) => role !== IMPLIED_SITE_ROLE), organizations };
}

/**
 * The record written before the calls: every value they add counts as the bridge's already. Without it, a crash after
 * Coder applied a call and before its record was written would leave that grant looking hand-made, never taken
 * back. Harmless when a call then fails: the bridge only ever removes a value it owns that Coder holds, and adds
 * are only of values Coder lacked when it was read. (A value an owned grant changes to is not written ahead: the
 * old one stays owned until the call is recorded.)
 */
export function recordBeforeCalls(record: AppliedUserAccess, change: UserAccessChange): AppliedUserAccess {
  const union = (values: readonly string[], more: readonly string[]) => [...new Set([...values, ...more])].sort();
  const organizations = { ...record.granted.organizations };
  for (const org of change.join) organizations[org] = { member: true, roles: organizations[org]?.roles ?? [] };
  for (const [org, roles] of Object.entries(change.organizationRoles)) {
    if (roles.add.length === 0) continue;
    organizations[org] = { member: organizations[org]?.member ?? false, roles: union(organizations[org]?.roles ?? [], roles.add) };
  }
  const siteRoles = union(record.granted.siteRoles, change.siteRoles?.add ?? []);
  return { ...record, granted: { siteRoles, organizations }, partial: true };
}

/** Whether `change` adds anything (then its record is written before the calls). */
export function addsAnything(change: UserAccessChange): boolean {
  return change.join.length > 0 || (change.siteRoles?.add.length ?? 0) > 0 || Object.values(change.organizationRoles).some((roles) => roles.add.length > 0);
}

/** The record after one Coder call succeeded: what the bridge now owns, so a crash after it neither repeats nor forgets it. */
export const recordAfter = {
  join(record: AppliedUserAccess, org: string, orgId: string): AppliedUserAccess {
    const roles = record.granted.organizations[org]?.roles ?? [];
    return {
      ...record,
      granted: { ...record.granted, organizations: { ...record.granted.organizations, [org]: { member: true, roles } } },
      organizationIds: [...new Set([...record.organizationIds, orgId])],
    };
  },
  orgRoles(record: AppliedUserAccess, org: string, owned: string[]): AppliedUserAccess {
    const organizations = { ...record.granted.organizations };
    const member = organizations[org]?.member ?? false;
    if (member || owned.length > 0) organizations[org] = { member, roles: owned };
    else delete organizations[org];
    return { ...record, granted: { ...record.granted, organizations } };
  },
  siteRoles(record: AppliedUserAccess, owned: string[]): AppliedUserAccess {
    return { ...record, granted: { ...record.granted, siteRoles: owned } };
  },
  /**
   * A call Coder refused outright (a 4xx: nothing applied) gives back what was written ahead for it: `before` is the
   * record as it was before recordBeforeCalls.
   */
  refused(record: AppliedUserAccess, before: AppliedUserAccess, call: AccessCall): AppliedUserAccess {
    if (call.call === 'siteRoles') return { ...record, granted: { ...record.granted, siteRoles: before.granted.siteRoles } };
    const organizations = { ...record.granted.organizations };
    const was = before.granted.organizations[call.organization];
    if (call.call === 'orgMember') {
      if (was) organizations[call.organization] = was;
      else delete organizations[call.organization];
    } else {
      const member = organizations[call.organization]?.member ?? false;
      const roles = was?.roles ?? [];
      if (member || roles.length > 0) organizations[call.organization] = { member, roles };
      else delete organizations[call.organization];
    }
    return { ...record, granted: { ...record.granted, organizations } };
  },
  leave(record: AppliedUserAccess, org: string, orgId: string): AppliedUserAccess {
    const organizations = { ...record.granted.organizations };
    delete organizations[org];
    return { ...record, granted: { ...record.granted, organizations }, organizationIds: record.organizationIds.filter((id) => id !== orgId) };
  },
};

/** Ids of organizations the user is newly known to be a member of (outside `baseOrgId`, whose landing is `orgMember`). */
export function newOrganizationIds(before: AppliedUserAccess | undefined, after: AppliedUserAccess | undefined, baseOrgId: string): string[] {
  const known = new Set(before?.organizationIds ?? []);
  return (after?.organizationIds ?? []).filter((id) => id !== baseOrgId && !known.has(id));
}

/** `onSuspend: stopWorkspaces`: the user's workspaces whose latest build started them (stopped ones stay as they are). */
export function workspacesToStop(workspaces: readonly Workspace[], ownerId: string): Workspace[] {
  return workspaces.filter((workspace) => workspace.owner_id === ownerId && workspace.latest_build?.transition === 'start');
}

import { rulesForGroup, type CompiledPolicy, type CompiledTemplateGrant } from './compile';
import type { TemplateAccess } from './schema';

/**
 * The grant planner: pure functions from (policy, a user's or group's desired SCIM state, what the bridge
 * granted before, what Coder holds) to the Coder changes. The bridge owns only what it granted: it removes
 * a role, membership or ACL entry only when its own record says it added it, so grants made by hand stay.
 */

// ---------- what the policy wants ----------

/** Site roles and organization memberships (with roles) the policy gives a user; lists sorted. */
export interface UserAccess {
  siteRoles: string[];
  /** organization name -> organization roles. Includes the organizations of the user's groups (no roles). */
  organizations: Record<string, string[]>;
}

export interface UserPolicyInput {
  /** displayNames of the SCIM groups the user is a member of. */
  groups: readonly string[];
  /** Values of the SCIM User `roles` attribute (Entra app roles). */
  roles: readonly string[];
}

/** What the policy says about one SCIM group. */
export interface GroupAccess {
  organization: string;
  quotaAllowance?: number;
  displayName?: string;
  avatarUrl?: string;
  /** Template name globs with their access, in rule order. */
  templates: CompiledTemplateGrant[];
}

const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/**
 * For one group: the first matching rule that sets a field decides it (organization, quota, display name,
 * avatar); template access is the union of all matching rules.
 */
export function planGroupAccess(policy: CompiledPolicy, displayName: string): GroupAccess {
  const rules = rulesForGroup(policy, displayName);
  const access: GroupAccess = { organization: organizationOf(policy, rules), templates: [] };
  for (const index of [...rules].sort((a, b) => a - b)) {
    const grant = policy.rules[index].group;
    if (!grant) continue;
    access.quotaAllowance ??= grant.quotaAllowance;
    access.displayName ??= grant.displayName;
    access.avatarUrl ??= grant.avatarUrl;
    access.templates.push(...grant.templates);
  }
  return access;
}

/** The organization of a group matched by `rules`: the first rule placing it decides. */
function organizationOf(policy: CompiledPolicy, rules: ReadonlySet<number>): string {
  let first = Infinity;
  for (const index of rules) if (index < first && policy.rules[index].group?.organization !== undefined) first = index;
  return first === Infinity ? policy.defaultOrganization : policy.rules[first].group!.organization!;
}

export function planUserAccess(policy: CompiledPolicy, input: UserPolicyInput): UserAccess {
  const matched = new Set<number>();
  const organizations = new Map<string, Set<string>>();
  const orgRoles = (name: string) => {
    let roles = organizations.get(name);
    if (!roles) organizations.set(name, (roles = new Set()));
    return roles;
  };
  for (const group of input.groups) {
    const rules = rulesForGroup(policy, group);
    // A Coder group member must be a member of the group's organization.
    orgRoles(organizationOf(policy, rules));
    for (const index of rules) matched.add(index);
  }
  for (const role of input.roles) for (const index of policy.byRole.get(role) ?? []) matched.add(index);
  const siteRoles = new Set<string>();
  for (const index of matched) {
    const rule = policy.rules[index];
    for (const role of rule.siteRoles) siteRoles.add(role);
    for (const org of rule.organizations) {
      const roles = orgRoles(org.name);
      for (const role of org.roles) roles.add(role);
    }
  }
  const out: Record<string, string[]> = {};
  for (const name of sorted(organizations.keys())) out[name] = sorted(organizations.get(name)!);
  return { siteRoles: sorted(siteRoles), organizations: out };
}

/** The template ACL a group should hold: template id -> access; `admin` wins over `use`. */
export function planTemplateAcl(access: GroupAccess, templates: readonly { id: string; name: string }[]): Record<string, TemplateAccess> {
  const acl: Record<string, TemplateAccess> = {};
  for (const template of templates) {
    for (const grant of access.templates) {
      if (!grant.glob.test(template.name)) continue;
      acl[template.id] = acl[template.id] === 'admin' || grant.access === 'admin' ? 'admin' : 'use';
    }
  }
  return acl;
}

// ---------- ownership: what the bridge changes ----------

/** One set-valued grant (roles of one scope): the calls to make and what the bridge owns afterwards. */
export interface OwnedSetChange {
  add: string[];
  remove: string[];
  /** The whole set to send to a full-replace endpoint (PUT .../roles): Coder's set, minus removals, plus additions. */
  final: string[];
  /** What the bridge owns afterwards: desired values it added, or had added before. A value held by hand stays unowned. */
  owned: string[];
}

export function planOwnedSet(desired: readonly string[], owned: readonly string[], actual: readonly string[]): OwnedSetChange {
  const want = new Set(desired);
  const mine = new Set(owned);
  const have = new Set(actual);
  const add = sorted(desired.filter((value) => !have.has(value)));
  const remove = sorted(owned.filter((value) => !want.has(value) && have.has(value)));
  const removed = new Set(remove);
  return {
    add,
    remove,
    final: sorted([...actual.filter((value) => !removed.has(value)), ...add]),
    owned: sorted(desired.filter((value) => mine.has(value) || !have.has(value))),
  };
}

const changed = (change: OwnedSetChange) => change.add.length > 0 || change.remove.length > 0;

/** What the bridge granted a user, as recorded by the bridge (never read back from Coder). */
export interface UserGrantRecord {
  siteRoles: string[];
  /** organization name -> whether the bridge added the membership, and the org roles it granted. */
  organizations: Record<string, { member: boolean; roles: string[] }>;
}

/** The user's grants as Coder holds them (site roles; organizations the user is a member of, with roles). */
export interface CoderUserAccess {
  siteRoles: string[];
  organizations: Record<string, string[]>;
}

export interface UserAccessChange {
  /** Full-replace body for `PUT /users/{user}/roles`, or undefined when nothing changes. */
  siteRoles?: OwnedSetChange;
  /** `POST /organizations/{org}/members/{user}`, before any role change in that organization. */
  join: string[];
  /** `DELETE /organizations/{org}/members/{user}`: memberships the bridge added and no longer wants. */
  leave: string[];
  /** `PUT /organizations/{org}/members/{user}/roles` per organization whose roles change. */
  organizationRoles: Record<string, OwnedSetChange>;
  /** The record to store once every call succeeded. */
  next: UserGrantRecord;
  /** Number of Coder calls the change needs (one per changed grant). */
  calls: number;
}

export const EMPTY_USER_GRANTS: UserGrantRecord = Object.freeze({ siteRoles: [], organizations: {} }) as UserGrantRecord;

/**
 * `baseOrganization` is where the user reconciler creates users: that membership belongs to the user's
 * lifecycle, so the policy never joins or leaves it (its roles are still planned).
 */
export function planUserChange(desired: UserAccess, granted: UserGrantRecord, actual: CoderUserAccess, baseOrganization: string): UserAccessChange {
  const site = planOwnedSet(desired.siteRoles, granted.siteRoles, actual.siteRoles);
  const wantOrgs = Object.keys(desired.organizations).filter((org) => org !== baseOrganization);
  const ownedOrgs = Object.keys(granted.organizations).filter((org) => granted.organizations[org].member && org !== baseOrganization);
  const memberOf = Object.keys(actual.organizations);
  const memberships = planOwnedSet(wantOrgs, ownedOrgs, memberOf);
  const leaving = new Set(memberships.remove);

  const organizationRoles: Record<string, OwnedSetChange> = {};
  const next: UserGrantRecord = { siteRoles: site.owned, organizations: {} };
  const scopes = sorted([...Object.keys(desired.organizations), ...Object.keys(granted.organizations)]);
  for (const org of scopes) {
    if (leaving.has(org)) continue;
    const roles = planOwnedSet(desired.organizations[org] ?? [], granted.organizations[org]?.roles ?? [], actual.organizations[org] ?? []);
    const member = memberships.owned.includes(org);
    if (changed(roles)) organizationRoles[org] = roles;
    if (member || roles.owned.length > 0) next.organizations[org] = { member, roles: roles.owned };
  }
  const calls = (changed(site) ? 1 : 0) + memberships.add.length + memberships.remove.length + Object.keys(organizationRoles).length;
  return {
    siteRoles: changed(site) ? site : undefined,
    join: memberships.add,
    leave: memberships.remove,
    organizationRoles,
    next,
    calls,
  };
}

/** Coder's user access once the calls of `change` succeeded (what the worker remembers as Coder's state). */
export function applyUserChange(coder: CoderUserAccess, change: UserAccessChange): CoderUserAccess {
  const organizations: Record<string, string[]> = { ...coder.organizations };
  for (const org of change.join) organizations[org] = [];
  for (const org of change.leave) delete organizations[org];
  for (const [org, roles] of Object.entries(change.organizationRoles)) organizations[org] = roles.final;
  return { siteRoles: change.siteRoles?.final ?? coder.siteRoles, organizations };
}

// ---------- groups ----------

/** What the bridge set on a group because of the policy. */
export interface GroupGrantRecord {
  quotaAllowance?: number;
  displayName?: string;
  avatarUrl?: string;
  /** template id -> the access the bridge gave this group. */
  templates: Record<string, TemplateAccess>;
}

/** The group as Coder holds it, and its entry in each template ACL of its organization. */
export interface CoderGroupAccess {
  quotaAllowance: number;
  displayName: string;
  avatarUrl: string;
  /** template id -> this group's access; a template without an entry is absent. */
  templates: Record<string, TemplateAccess>;
}

export interface GroupAccessChange {
  /** Fields for `PATCH /groups/{group}`; empty when nothing changes. */
  patch: { quota_allowance?: number; display_name?: string; avatar_url?: string };
  /** Per template: `PATCH /templates/{id}/acl` with `{group_perms: {<group id>: access | ""}}`. */
  acl: Record<string, TemplateAccess | ''>;
  next: GroupGrantRecord;
  calls: number;
}

export const EMPTY_GROUP_GRANTS: GroupGrantRecord = Object.freeze({ templates: {} }) as GroupGrantRecord;

/**
 * A scalar the policy sets: set it when Coder differs; when the policy stops setting it, put back `fallback`
 * only if Coder still holds the bridge's value (someone changed it by hand otherwise: theirs now).
 */
function planScalar<T>(desired: T | undefined, granted: T | undefined, actual: T, fallback: T): { set?: T; owned?: T } {
  if (desired !== undefined) return { set: desired === actual ? undefined : desired, owned: desired };
  if (granted !== undefined && actual === granted && actual !== fallback) return { set: fallback };
  return {};
}

/**
 * `defaultDisplayName` is what the group's display_name is without the policy (the SCIM mapping's).
 * ACL: an entry the bridge did not grant (made by hand) is never changed or removed.
 */
export function planGroupChange(
  desired: GroupAccess,
  desiredAcl: Record<string, TemplateAccess>,
  granted: GroupGrantRecord,
  actual: CoderGroupAccess,
  defaultDisplayName: string,
): GroupAccessChange {
  const patch: GroupAccessChange['patch'] = {};
  const next: GroupGrantRecord = { templates: {} };
  const quota = planScalar(desired.quotaAllowance, granted.quotaAllowance, actual.quotaAllowance, 0);
  if (quota.set !== undefined) patch.quota_allowance = quota.set;
  if (quota.owned !== undefined) next.quotaAllowance = quota.owned;
  const display = planScalar(desired.displayName, granted.displayName, actual.displayName, defaultDisplayName);
  if (display.set !== undefined) patch.display_name = display.set;
  if (display.owned !== undefined) next.displayName = display.owned;
  const avatar = planScalar(desired.avatarUrl, granted.avatarUrl, actual.avatarUrl, '');
  if (avatar.set !== undefined) patch.avatar_url = avatar.set;
  if (avatar.owned !== undefined) next.avatarUrl = avatar.owned;

  const acl: Record<string, TemplateAccess | ''> = {};
  for (const id of sorted([...Object.keys(desiredAcl), ...Object.keys(granted.templates)])) {
    const want = desiredAcl[id];
    const mine = granted.templates[id];
    const have = actual.templates[id];
    const byHand = have !== undefined && mine === undefined;
    if (want !== undefined) {
      if (byHand) continue;
      if (have !== want) acl[id] = want;
      next.templates[id] = want;
    } else if (mine !== undefined && have === mine) acl[id] = '';
  }
  return { patch, acl, next, calls: (Object.keys(patch).length > 0 ? 1 : 0) + Object.keys(acl).length };
}

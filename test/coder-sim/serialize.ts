/** codersdk JSON shapes built from state records. */
import { GO_ZERO_TIME, goTime } from './errors';
import { EVERYONE, GroupRec, MemberRec, OrgRec, State, UserRec } from './state';

const ROLE_DISPLAY: Record<string, string> = {
  owner: 'Owner',
  'user-admin': 'User Admin',
  'template-admin': 'Template Admin',
  auditor: 'Auditor',
};

export function slimRoles(roles: string[]): Array<{ name: string; display_name: string }> {
  return roles.map((r) => ({ name: r, display_name: ROLE_DISPLAY[r] ?? r }));
}

/** codersdk.ReducedUser */
export function reducedUser(u: UserRec) {
  return {
    id: u.id,
    username: u.username,
    avatar_url: u.avatar_url,
    name: u.name,
    email: u.email,
    created_at: goTime(u.created_at),
    updated_at: goTime(u.updated_at),
    last_seen_at: u.last_seen_at ? goTime(u.last_seen_at) : GO_ZERO_TIME,
    status: u.status,
    login_type: u.login_type,
    theme_preference: '',
  };
}

/** codersdk.User; organization_ids defaults to the user's memberships. */
export function userJson(s: State, u: UserRec, orgIds?: string[]) {
  return { ...reducedUser(u), organization_ids: orgIds ?? s.userOrgIds(u.id), roles: slimRoles(u.roles) };
}

export function orgJson(o: OrgRec) {
  return {
    id: o.id,
    name: o.name,
    display_name: o.display_name,
    description: o.description,
    icon: o.icon,
    created_at: goTime(o.created_at),
    updated_at: goTime(o.updated_at),
    is_default: o.is_default,
  };
}

export const ORG_ROLE_DISPLAY: Record<string, string> = {
  'organization-admin': 'Organization Admin',
  'organization-user-admin': 'Organization User Admin',
  'organization-template-admin': 'Organization Template Admin',
  'organization-auditor': 'Organization Auditor',
};

/** codersdk.OrganizationMember; custom roles carry their display name. */
export function orgMemberJson(s: State, orgId: string, userId: string, m: MemberRec) {
  const custom = s.customRoles.get(orgId);
  return {
    user_id: userId,
    organization_id: orgId,
    created_at: goTime(m.created_at),
    updated_at: goTime(m.updated_at),
    roles: m.roles.map((name) => ({ name, display_name: ORG_ROLE_DISPLAY[name] ?? custom?.get(name)?.display_name ?? '', organization_id: orgId })),
  };
}

export function orgMemberWithUserJson(s: State, orgId: string, u: UserRec, m: MemberRec) {
  return {
    ...orgMemberJson(s, orgId, u.id, m),
    username: u.username,
    name: u.name,
    avatar_url: u.avatar_url,
    email: u.email,
    global_roles: slimRoles(u.roles),
  };
}

/** codersdk.Group for a real group or, when `g` is undefined, the Everyone group of `org`. */
export function groupJson(s: State, org: OrgRec, g?: GroupRec) {
  const ids = g ? [...g.members] : [...org.members.keys()];
  const members = [];
  for (const id of ids) {
    const u = s.users.get(id);
    if (u && !u.deleted) members.push(reducedUser(u));
  }
  return {
    id: g ? g.id : org.id,
    name: g ? g.name : EVERYONE,
    display_name: g ? g.display_name : '',
    organization_id: org.id,
    organization_name: org.name,
    organization_display_name: org.display_name,
    members,
    total_member_count: members.length,
    avatar_url: g ? g.avatar_url : '',
    quota_allowance: g ? g.quota_allowance : 0,
    source: g ? g.source : 'user',
  };
}

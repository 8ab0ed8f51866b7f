/** In-memory Coder state: users, organizations, groups, API keys. No HTTP here. */
import { newId, parseUuid, randomString } from './ids';
import type { SimGroup, SimUserStatus } from './types';

export interface UserRec {
  id: string;
  username: string;
  email: string;
  name: string;
  status: SimUserStatus;
  login_type: string;
  avatar_url: string;
  created_at: number;
  updated_at: number;
  /** 0 = never (Go zero time). */
  last_seen_at: number;
  deleted: boolean;
  /** Site roles, e.g. ["owner"]. */
  roles: string[];
  workspaces: number;
}

export interface MemberRec {
  created_at: number;
  updated_at: number;
  /** Organization roles (built-in or custom names); organization-member is implied, never stored. */
  roles: string[];
}

export interface OrgRec {
  id: string;
  name: string;
  display_name: string;
  description: string;
  icon: string;
  created_at: number;
  updated_at: number;
  is_default: boolean;
  /** user id -> membership; insertion ordered. */
  members: Map<string, MemberRec>;
}

/** A real (non-Everyone) group, stored as the simulator exposes it. The Everyone group of an org is implicit: id == org id, members == org members. */
export type GroupRec = SimGroup;

export const EVERYONE = 'Everyone';

export type TemplateRole = 'use' | 'admin';

export interface TemplateRec {
  id: string;
  name: string;
  display_name: string;
  organization_id: string;
  created_at: number;
  updated_at: number;
  /** Group id (the Everyone group's is the org id) -> role. */
  groupAcl: Map<string, TemplateRole>;
  userAcl: Map<string, TemplateRole>;
}

export interface CustomRoleRec {
  name: string;
  display_name: string;
  organization_permissions: unknown[];
}

export interface WorkspaceRec {
  id: string;
  name: string;
  owner_id: string;
  organization_id: string;
  template_id: string;
  created_at: number;
  builds: Array<{ id: string; build_number: number; transition: 'start' | 'stop' | 'delete'; created_at: number }>;
}

/** IdP sync settings (coderd/idpsync): sync is on for a scope when `field` is set. */
export interface IdpSyncSettings {
  groups: Map<string, { field: string; mapping: Record<string, string[]>; regex_filter: string | null; auto_create_missing_groups: boolean }>;
  roles: Map<string, { field: string; mapping: Record<string, string[]> }>;
  organization: { field: string; mapping: Record<string, string[]>; organization_assign_default: boolean };
  /** Deployment flag CODER_OIDC_USER_ROLE_FIELD (site role sync): no API sets it. */
  siteRoleField: string;
}

export class State {
  readonly users = new Map<string, UserRec>();
  /** lower(username) -> id, non-deleted users only. */
  private readonly byUsername = new Map<string, string>();
  /** lower(email) -> id, non-deleted users only. */
  private readonly byEmail = new Map<string, string>();
  readonly orgs = new Map<string, OrgRec>();
  readonly groups = new Map<string, GroupRec>();
  readonly templates = new Map<string, TemplateRec>();
  readonly workspaces = new Map<string, WorkspaceRec>();
  /** org id -> custom role name -> role. */
  readonly customRoles = new Map<string, Map<string, CustomRoleRec>>();
  readonly idpSync: IdpSyncSettings = {
    groups: new Map(),
    roles: new Map(),
    organization: { field: '', mapping: {}, organization_assign_default: true },
    siteRoleField: '',
  };
  /** API key id -> secret + user. */
  readonly tokens = new Map<string, { secret: string; userId: string; expiresAt?: number }>();
  private sorted: UserRec[] | null = null;
  private sortedLower: string[] = [];
  defaultOrgId = '';

  now(): number {
    return Date.now();
  }

  // ---------- organizations ----------

  createOrg(name: string, isDefault = false): OrgRec {
    const t = this.now();
    const org: OrgRec = {
      id: newId(),
      name,
      display_name: name,
      description: '',
      icon: '',
      created_at: t,
      updated_at: t,
      is_default: isDefault,
      members: new Map(),
    };
    this.orgs.set(org.id, org);
    if (isDefault) this.defaultOrgId = org.id;
    return org;
  }

  /** Org by UUID, name (case-insensitive) or "default". */
  findOrg(q: string): OrgRec | undefined {
    const id = parseUuid(q);
    if (id) return this.orgs.get(id);
    if (q === 'default') return this.orgs.get(this.defaultOrgId);
    const lq = q.toLowerCase();
    for (const o of this.orgs.values()) if (o.name.toLowerCase() === lq) return o;
    return undefined;
  }

  addOrgMember(orgId: string, userId: string): MemberRec {
    const org = this.orgs.get(orgId)!;
    const t = this.now();
    const m: MemberRec = { created_at: t, updated_at: t, roles: [] };
    org.members.set(userId, m);
    return m;
  }

  /** Removes membership and (DB trigger) membership of every group of that org. */
  removeOrgMember(orgId: string, userId: string): void {
    const org = this.orgs.get(orgId);
    if (!org) return;
    org.members.delete(userId);
    for (const g of this.groups.values()) if (g.organization_id === orgId) g.members.delete(userId);
  }

  userOrgIds(userId: string): string[] {
    const out: string[] = [];
    for (const o of this.orgs.values()) if (o.members.has(userId)) out.push(o.id);
    return out;
  }

  // ---------- users ----------

  /** Non-deleted user whose username or email matches case-insensitively. */
  findByUsernameOrEmail(username: string, email: string): UserRec | undefined {
    const a = username !== '' ? this.byUsername.get(username.toLowerCase()) : undefined;
    if (a) return this.users.get(a);
    const b = email !== '' ? this.byEmail.get(email.toLowerCase()) : undefined;
    return b ? this.users.get(b) : undefined;
  }

  findByUsername(username: string): UserRec | undefined {
    const id = this.byUsername.get(username.toLowerCase());
    return id ? this.users.get(id) : undefined;
  }

  createUser(p: {
    username: string;
    email: string;
    name: string;
    status: SimUserStatus;
    login_type: string;
    orgIds: string[];
    roles?: string[];
  }): UserRec {
    const t = this.now();
    const u: UserRec = {
      id: newId(),
      username: p.username,
      email: p.email,
      name: p.name,
      status: p.status,
      login_type: p.login_type,
      avatar_url: '',
      created_at: t,
      updated_at: t,
      last_seen_at: 0,
      deleted: false,
      roles: p.roles ?? [],
      workspaces: 0,
    };
    this.users.set(u.id, u);
    this.byUsername.set(u.username.toLowerCase(), u.id);
    if (u.email !== '') this.byEmail.set(u.email.toLowerCase(), u.id);
    for (const o of p.orgIds) this.addOrgMember(o, u.id);
    this.sorted = null;
    return u;
  }

  renameUser(u: UserRec, username: string): void {
    if (this.byUsername.get(u.username.toLowerCase()) === u.id) this.byUsername.delete(u.username.toLowerCase());
    u.username = username;
    this.byUsername.set(username.toLowerCase(), u.id);
    this.sorted = null;
  }

  /** Soft delete; the DB trigger drops API keys and org (hence group) memberships. */
  softDeleteUser(u: UserRec): void {
    if (!u.deleted) {
      if (this.byUsername.get(u.username.toLowerCase()) === u.id) this.byUsername.delete(u.username.toLowerCase());
      if (this.byEmail.get(u.email.toLowerCase()) === u.id) this.byEmail.delete(u.email.toLowerCase());
    }
    u.deleted = true;
    u.updated_at = this.now();
    for (const o of this.orgs.values()) if (o.members.has(u.id)) this.removeOrgMember(o.id, u.id);
    for (const [k, v] of this.tokens) if (v.userId === u.id) this.tokens.delete(k);
    this.sorted = null;
  }

  /** Non-deleted users ordered by lower(username). Cached until the next change. */
  /** Users not deleted, whatever their status. */
  liveUserCount(): number {
    let count = 0;
    for (const user of this.users.values()) if (!user.deleted) count++;
    return count;
  }

  sortedUsers(): UserRec[] {
    if (!this.sorted) {
      const rows = [...this.users.values()]
        .filter((u) => !u.deleted)
        .map((u) => ({ u, k: u.username.toLowerCase() }))
        .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      this.sorted = rows.map((x) => x.u);
      this.sortedLower = rows.map((x) => x.k);
    }
    return this.sorted;
  }

  /** Index of the first user in sortedUsers() whose lower(username) > `key`. */
  sortedIndexAfter(key: string): number {
    this.sortedUsers();
    let lo = 0;
    let hi = this.sortedLower.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sortedLower[mid] > key) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  activeUserCount(): number {
    let n = 0;
    for (const u of this.users.values()) if (!u.deleted && u.status === 'active') n++;
    return n;
  }

  createToken(userId: string): string {
    let id = randomString(10);
    while (this.tokens.has(id)) id = randomString(10);
    const secret = randomString(22);
    this.tokens.set(id, { secret, userId });
    return `${id}-${secret}`;
  }

  // ---------- groups ----------

  findGroupByName(orgId: string, name: string): GroupRec | undefined {
    for (const g of this.groups.values()) if (g.organization_id === orgId && g.name === name) return g;
    return undefined;
  }

  createGroup(p: { name: string; display_name: string; orgId: string; avatar_url?: string; quota_allowance?: number; source?: 'user' | 'oidc' }): GroupRec {
    const g: GroupRec = {
      id: newId(),
      name: p.name,
      display_name: p.display_name,
      organization_id: p.orgId,
      members: new Set(),
      source: p.source ?? 'user',
      avatar_url: p.avatar_url ?? '',
      quota_allowance: p.quota_allowance ?? 0,
    };
    this.groups.set(g.id, g);
    return g;
  }

  /** Member ids of a group (real or Everyone, addressed by id). */
  groupMemberIds(groupId: string): string[] {
    const g = this.groups.get(groupId);
    if (g) return [...g.members];
    const org = this.orgs.get(groupId);
    return org ? [...org.members.keys()] : [];
  }
}

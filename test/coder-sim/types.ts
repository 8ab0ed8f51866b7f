/** Public types of the Coder API v2 simulator (re-exported by index.ts). */

export interface CoderSimOptions {
  /** Listen port, default 0 (ephemeral). Only used at start. */
  port?: number;
  /** Added delay before every API request is handled, default 0. */
  latencyMs?: number;
  /**
   * 0..1: fraction of write requests (POST/PUT/PATCH/DELETE) that fail. A failing write either answers
   * 500 without applying the change, or drops the connection (before or after applying it). Default 0.
   */
  writeFailureRate?: number;
  /** Every request fails: 503 {"message":"simulated outage"} or a dropped connection. Default false. */
  outage?: boolean;
  /** Feature template_rbac entitled (groups). Default true; false makes group routes 403. */
  groupsLicensed?: boolean;
  /** Per (token user or IP, request path) sliding-window limit; 0 disables (default). */
  rateLimitPerMinute?: number;
  /**
   * Length of that window, default 60000 (Coder's minute; the limit then counts per this window). Only used at
   * start. A test shortens it so a 429's Retry-After is seconds, not a minute.
   */
  rateLimitWindowMs?: number;
  /** Injectable RNG for failure decisions, default Math.random. */
  random?: () => number;
}

export type SimUserStatus = 'active' | 'dormant' | 'suspended';

export interface SimUser {
  id: string;
  username: string;
  email: string;
  name: string;
  status: SimUserStatus;
  login_type: string;
  created_at: string;
  updated_at: string;
  deleted: boolean;
  organization_ids: string[];
  /** Site roles (owner, user-admin, template-admin, auditor, or a custom role name). */
  roles: string[];
  workspaces: number;
}

export interface SimGroup {
  id: string;
  name: string;
  display_name: string;
  organization_id: string;
  members: Set<string>;
  source: 'user' | 'oidc';
  avatar_url: string;
  quota_allowance: number;
}

export interface CoderSimDirect {
  /** `loginType` defaults to password, `roles` (site roles) to none. */
  createUser(u: { username: string; email: string; name?: string; status?: SimUserStatus; orgIds?: string[]; loginType?: string; roles?: string[] }): SimUser;
  /** Replaces the user's site roles, as PUT /users/{user}/roles does. */
  setUserRoles(id: string, roles: string[]): void;
  deleteUser(id: string): void;
  setUserStatus(id: string, s: SimUserStatus): void;
  createGroup(g: { name: string; display_name?: string; orgId?: string }): SimGroup;
  renameGroup(id: string, name: string): void;
  deleteGroup(id: string): void;
  /** Also makes the user a member of the group's organization. */
  addGroupMember(groupId: string, userId: string): void;
  removeGroupMember(groupId: string, userId: string): void;
  /** The user now owns one more workspace: DELETE /users/{user} answers 417. */
  addWorkspace(userId: string): void;
  /** Returns the new organization's id. */
  createOrganization(name: string): string;
  /** A session token for another user (e.g. a non-owner). */
  createToken(userId: string): string;
  /** The token's expiry is now: every call with it answers 401 `API key expired at "<time>".` */
  expireToken(token: string): void;
  /** Deletes the token: every call with it answers 401 `API key is invalid.` */
  revokeToken(token: string): void;
  /** A template (Coder creates them from versions, not simulated); default organization unless given. Returns its id. */
  createTemplate(name: string, orgId?: string): string;
  /** A running workspace of the user (also counted for DELETE /users 417). Returns its id. */
  createWorkspace(userId: string, name: string, templateId: string): string;
  /** Deployment flag CODER_OIDC_USER_ROLE_FIELD: non-empty turns site role sync on (no API sets it). */
  setSiteRoleField(field: string): void;
}

export interface CoderSim {
  url: string;
  token: string;
  ownerId: string;
  defaultOrgId: string;
  setOptions(o: Partial<CoderSimOptions>): void;
  users(): SimUser[];
  /** Non-deleted users, owner included: cheap, for watchers that poll while the simulator is under load. */
  userCount(): number;
  groups(orgId?: string): SimGroup[];
  /** O(1), without copying the group: for watchers that poll a large group. */
  hasGroupMember(groupId: string, userId: string): boolean;
  orgMembers(orgId?: string): string[];
  direct: CoderSimDirect;
  /** Site roles of a user, and organization roles per organization id. */
  roles(userId: string): { site: string[]; organizations: Record<string, string[]> };
  /** A template's ACL: group id (Everyone: the org id) -> role, user id -> role. */
  templateAcl(templateId: string): { groups: Record<string, string>; users: Record<string, string> };
  /** The latest build transition of each workspace of a user. */
  workspaces(userId: string): Array<{ id: string; name: string; transition: string }>;
  calls(): Record<string, number>;
  writeCalls(): number;
  /** Requests answered 429 by the rate limiter since the last resetCalls(). */
  rateLimitedCalls(): number;
  resetCalls(): void;
  close(): Promise<void>;
}

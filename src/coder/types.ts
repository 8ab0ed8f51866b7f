/**
 * Coder API v2 JSON shapes, as far as the bridge reads or sends them (codersdk, 2024-2025 releases).
 * Fields Coder added later are optional so an older or newer Coder still type-checks at the boundary.
 */

export type UserStatus = 'active' | 'dormant' | 'suspended';
export type LoginType = 'password' | 'github' | 'oidc' | 'token' | 'none' | '';

export interface SlimRole {
  name: string;
  display_name: string;
  organization_id?: string;
}

export interface ReducedUser {
  id: string;
  username: string;
  name: string;
  email: string;
  avatar_url: string;
  created_at: string;
  updated_at: string;
  last_seen_at: string;
  status: UserStatus;
  login_type: LoginType;
  theme_preference?: string;
  is_service_account?: boolean;
}

export interface User extends ReducedUser {
  organization_ids: string[];
  roles: SlimRole[];
}

export interface UsersPage {
  users: User[];
  /** Total number of users matching the query (before limit/offset). */
  count: number;
}

export interface Organization {
  id: string;
  name: string;
  display_name: string;
  description: string;
  icon: string;
  created_at: string;
  updated_at: string;
  is_default: boolean;
}

export interface OrganizationMember {
  user_id: string;
  organization_id: string;
  created_at: string;
  updated_at: string;
  roles: SlimRole[];
}

export interface OrganizationMemberWithUserData extends OrganizationMember {
  username: string;
  name: string;
  email: string;
  avatar_url: string;
  global_roles: SlimRole[];
}

export interface PaginatedMembers {
  members: OrganizationMemberWithUserData[];
  count: number;
}

export type GroupSource = 'user' | 'oidc';

export interface Group {
  id: string;
  name: string;
  display_name: string;
  organization_id: string;
  organization_name?: string;
  organization_display_name?: string;
  members: ReducedUser[];
  total_member_count: number;
  avatar_url: string;
  quota_allowance: number;
  source: GroupSource;
}

/** codersdk.Template, as far as the bridge reads it. */
export interface Template {
  id: string;
  name: string;
  display_name: string;
  organization_id: string;
  organization_name?: string;
}

/** codersdk.AssignableRoles: a role listed by GET /organizations/{org}/members/roles (built-in and custom). */
export interface AssignableRole {
  name: string;
  display_name: string;
  organization_id?: string;
  assignable: boolean;
  built_in: boolean;
}

/** GET /users/{user}/roles: site roles, and each organization membership's roles (organization id -> roles). */
export interface UserRoles {
  roles: string[];
  organization_roles: Record<string, string[]>;
}

export type TemplateRole = 'use' | 'admin';

/** GET /templates/{template}/acl: `group` (sic) lists group entries; the Everyone group's id is the organization id. */
export interface TemplateAcl {
  users: (ReducedUser & { role: TemplateRole })[];
  group: ({ id: string; name: string; organization_id: string } & { role: TemplateRole })[];
}

/** PATCH /templates/{template}/acl: merge; only listed ids change, "" removes an entry. */
export interface UpdateTemplateAclRequest {
  user_perms?: Record<string, TemplateRole | ''>;
  group_perms?: Record<string, TemplateRole | ''>;
}

export type WorkspaceTransition = 'start' | 'stop' | 'delete';

/** codersdk.Workspace, as far as deprovisioning reads it. */
export interface Workspace {
  id: string;
  name: string;
  owner_id: string;
  organization_id: string;
  latest_build: { id: string; transition: WorkspaceTransition; status: string };
}

export interface WorkspacesPage {
  workspaces: Workspace[];
  count: number;
}

/** GET /api/v2/deployment/config (owner only), as far as the bridge reads it: the deployment's OIDC role sync. */
export interface DeploymentConfig {
  config: { oidc?: { user_role_field?: string } };
}

/** IdP sync settings (enterprise/coderd/idpsync): a scope's sync is on when `field` is set. */
export interface IdpSyncSettings {
  field: string;
  mapping: Record<string, string[]>;
}

export type Entitlement = 'entitled' | 'grace_period' | 'not_entitled';

export interface Feature {
  entitlement: Entitlement;
  enabled: boolean;
  limit?: number;
  actual?: number;
}

export interface Entitlements {
  features: Record<string, Feature>;
  warnings: string[];
  errors: string[];
  has_license: boolean;
  trial: boolean;
  require_telemetry: boolean;
  refreshed_at: string;
}

export interface BuildInfo {
  version: string;
  external_url: string;
  dashboard_url?: string;
  deployment_id?: string;
  workspace_proxy?: boolean;
}

/** POST /api/v2/users. `organization_ids` must be non-empty; the nil UUID means the default organization. */
export interface CreateUserRequest {
  email: string;
  username: string;
  name?: string;
  password?: string;
  login_type: Exclude<LoginType, 'token' | ''>;
  user_status?: UserStatus;
  organization_ids: string[];
}

/** PUT /api/v2/users/{user}/profile: the username must always be sent, even unchanged. */
export interface UpdateProfileRequest {
  username: string;
  name: string;
}

export interface CreateGroupRequest {
  name: string;
  display_name?: string;
  avatar_url?: string;
  quota_allowance?: number;
}

/** PATCH /api/v2/groups/{group}: user ids must be UUIDs; one request carries all membership changes. */
export interface PatchGroupRequest {
  add_users?: string[];
  remove_users?: string[];
  name?: string;
  display_name?: string;
  avatar_url?: string;
  quota_allowance?: number;
}

export interface ValidationError {
  field: string;
  detail: string;
}

/** codersdk.Response: the body of every Coder error (and of a few successes, e.g. DELETE user). */
export interface CoderResponse {
  message: string;
  detail?: string;
  validations?: ValidationError[];
}

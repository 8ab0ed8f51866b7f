import { CoderApiError, isNotFound } from './errors';
import { readGroupSummary, type GroupSummary } from './group-summary';
import { CoderTransport, type CoderTransportOptions, type ResponseBody } from './transport';
import type {
  AssignableRole,
  BuildInfo,
  CoderResponse,
  CreateGroupRequest,
  CreateUserRequest,
  DeploymentConfig,
  Entitlements,
  Group,
  IdpSyncSettings,
  Organization,
  OrganizationMember,
  OrganizationMemberWithUserData,
  PaginatedMembers,
  PatchGroupRequest,
  Template,
  TemplateAcl,
  UpdateProfileRequest,
  UpdateTemplateAclRequest,
  User,
  UserRoles,
  UsersPage,
  Workspace,
  WorkspacesPage,
} from './types';

export type CoderClientOptions = CoderTransportOptions;

export interface ListUsersQuery {
  /** Coder's search language; a bare term matches a substring of username or e-mail. */
  q?: string;
  /** 0 or absent means no limit. */
  limit?: number;
  offset?: number;
  /** Cursor: users ordered after this user's (lower-cased) username. */
  afterId?: string;
}

export type AddOrgMemberResult = { alreadyMember: false; member: OrganizationMember } | { alreadyMember: true };

const ALREADY_ORG_MEMBER = 'Organization member already exists in this organization';
const DEFAULT_PAGE_SIZE = 500;
/**
 * A group PATCH answers with the whole group, every member included (15 MB at 50,000 members). The bridge needs
 * none of it: an answer up to this size is read and dropped (the connection stays open for the next call),
 * a larger one is cut off unread (one new connection costs less than receiving it).
 */
const DRAIN_LIMIT_BYTES = 256 * 1024;

function drain(body: ResponseBody): Promise<unknown> {
  return body.dump({ limit: DRAIN_LIMIT_BYTES });
}

/** UTF-8 text chunks; a character split between two chunks is decoded whole. */
async function* decoded(body: ResponseBody): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (const chunk of body) yield decoder.decode(chunk as Uint8Array, { stream: true });
  yield decoder.decode();
}

function summarise(body: ResponseBody): Promise<GroupSummary> {
  return readGroupSummary(decoded(body));
}

/** Typed Coder API v2 calls used by the bridge. Knows nothing of SCIM. */
export class CoderClient {
  private readonly http: CoderTransport;

  constructor(options: CoderClientOptions) {
    this.http = new CoderTransport(options);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  buildInfo(): Promise<BuildInfo> {
    return this.http.call('GET', '/api/v2/buildinfo');
  }

  me(): Promise<User> {
    return this.http.call('GET', '/api/v2/users/me');
  }

  entitlements(): Promise<Entitlements> {
    return this.http.call('GET', '/api/v2/entitlements');
  }

  organizations(): Promise<Organization[]> {
    return this.http.call('GET', '/api/v2/organizations');
  }

  organization(idOrName: string): Promise<Organization> {
    return this.http.call('GET', '/api/v2/organizations/{organization}', { params: { organization: idOrName } });
  }

  templates(organization: string): Promise<Template[]> {
    return this.http.call('GET', '/api/v2/organizations/{organization}/templates', { params: { organization } });
  }

  /** Built-in and custom organization roles. */
  organizationRoles(organization: string): Promise<AssignableRole[]> {
    return this.http.call('GET', '/api/v2/organizations/{organization}/members/roles', { params: { organization } });
  }

  groupSyncSettings(organization: string): Promise<IdpSyncSettings> {
    return this.http.call('GET', '/api/v2/organizations/{organization}/settings/idpsync/groups', { params: { organization } });
  }

  roleSyncSettings(organization: string): Promise<IdpSyncSettings> {
    return this.http.call('GET', '/api/v2/organizations/{organization}/settings/idpsync/roles', { params: { organization } });
  }

  /** Site role sync is a deployment option (CODER_OIDC_USER_ROLE_FIELD), read from the deployment's configuration. */
  deploymentConfig(): Promise<DeploymentConfig> {
    return this.http.call('GET', '/api/v2/deployment/config');
  }

  organizationSyncSettings(): Promise<IdpSyncSettings> {
    return this.http.call('GET', '/api/v2/settings/idpsync/organization');
  }

  createUser(body: CreateUserRequest): Promise<User> {
    return this.http.call('POST', '/api/v2/users', { body });
  }

  /** Null when no (non-deleted) user has that id or username; Coder says so with a 400, not a 404. */
  user(idOrUsername: string): Promise<User | null> {
    return nullIfNotFound(this.http.call<User>('GET', '/api/v2/users/{user}', { params: { user: idOrUsername } }));
  }

  listUsers({ q, limit, offset, afterId }: ListUsersQuery = {}): Promise<UsersPage> {
    return this.http.call('GET', '/api/v2/users', { query: { q, limit, offset, after_id: afterId } });
  }

  /** Every user, in Coder's order (lower-cased username), one page of `pageSize` per call. */
  async *iterateUsers(pageSize = DEFAULT_PAGE_SIZE): AsyncGenerator<User> {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer (got ${pageSize})`);
    let afterId: string | undefined;
    for (;;) {
      const { users } = await this.listUsers({ limit: pageSize, afterId });
      yield* users;
      if (users.length < pageSize) return;
      afterId = users[users.length - 1].id;
    }
  }

  /**
   * Coder has no `email:` search key: search with a bare term (a substring match on username or e-mail) and
   * keep the users whose e-mail equals `email` under Unicode lower-casing, as Coder's own uniqueness check
   * compares. Which of them may be adopted is the caller's rule (adoption-rules.ts).
   */
  async findUsersByEmail(email: string): Promise<User[]> {
    const { users } = await this.listUsers({ q: emailSearchTerm(email) });
    const wanted = email.toLowerCase();
    return users.filter((user) => user.email.toLowerCase() === wanted);
  }

  updateProfile(id: string, body: UpdateProfileRequest): Promise<User> {
    return this.http.call('PUT', '/api/v2/users/{user}/profile', { params: { user: id }, body });
  }

  suspendUser(id: string): Promise<User> {
    return this.http.call('PUT', '/api/v2/users/{user}/status/suspend', { params: { user: id } });
  }

  activateUser(id: string): Promise<User> {
    return this.http.call('PUT', '/api/v2/users/{user}/status/activate', { params: { user: id } });
  }

  async deleteUser(id: string): Promise<void> {
    await this.http.call<CoderResponse>('DELETE', '/api/v2/users/{user}', { params: { user: id } });
  }

  /** Site roles and every organization membership's roles, in one call. */
  userRoles(id: string): Promise<UserRoles> {
    return this.http.call('GET', '/api/v2/users/{user}/roles', { params: { user: id } });
  }

  /** Full replace of the site roles ("member" is implied). Coder refuses a change of the token's own roles. */
  async putSiteRoles(id: string, roles: string[]): Promise<void> {
    await this.http.call<User>('PUT', '/api/v2/users/{user}/roles', { params: { user: id }, body: { roles } });
  }

  /** Full replace of one member's organization roles ("organization-member" is implied). */
  async putOrgMemberRoles(organization: string, user: string, roles: string[]): Promise<void> {
    await this.http.call<OrganizationMember>('PUT', '/api/v2/organizations/{organization}/members/{user}/roles', {
      params: { organization, user },
      body: { roles },
    });
  }

  templateAcl(template: string): Promise<TemplateAcl> {
    return this.http.call('GET', '/api/v2/templates/{template}/acl', { params: { template } });
  }

  /** Merge semantics: only the listed ids change; "" removes an entry. */
  async patchTemplateAcl(template: string, body: UpdateTemplateAclRequest): Promise<void> {
    await this.http.call<CoderResponse>('PATCH', '/api/v2/templates/{template}/acl', { params: { template }, body });
  }

  /** The user's workspaces (not deleted), by Coder's `owner:` search. */
  async workspacesOf(username: string): Promise<Workspace[]> {
    const page = await this.http.call<WorkspacesPage>('GET', '/api/v2/workspaces', { query: { q: `owner:${username}` } });
    return page.workspaces;
  }

  async stopWorkspace(id: string): Promise<void> {
    await this.http.call('POST', '/api/v2/workspaces/{workspace}/builds', { params: { workspace: id }, body: { transition: 'stop' } });
  }

  /** Adding an existing member is success: the desired state already holds. */
  async addOrgMember(organization: string, user: string): Promise<AddOrgMemberResult> {
    try {
      const member = await this.http.call<OrganizationMember>('POST', '/api/v2/organizations/{organization}/members/{user}', {
        params: { organization, user },
      });
      return { alreadyMember: false, member };
    } catch (err) {
      if (err instanceof CoderApiError && err.status === 400 && err.message === ALREADY_ORG_MEMBER) return { alreadyMember: true };
      throw err;
    }
  }

  /** Coder also removes the user from every group of that organization. */
  async removeOrgMember(organization: string, user: string): Promise<void> {
    await this.http.call('DELETE', '/api/v2/organizations/{organization}/members/{user}', { params: { organization, user } });
  }

  async orgMembers(organization: string, pageSize = DEFAULT_PAGE_SIZE): Promise<OrganizationMemberWithUserData[]> {
    const members: OrganizationMemberWithUserData[] = [];
    for (;;) {
      const page = await this.http.call<PaginatedMembers>('GET', '/api/v2/organizations/{organization}/paginated-members', {
        params: { organization },
        query: { limit: pageSize, offset: members.length },
      });
      members.push(...page.members);
      if (page.members.length < pageSize || members.length >= page.count) return members;
    }
  }

  /** Includes the implicit Everyone group (id equal to the organization id). */
  groups(organization: string): Promise<Group[]> {
    return this.http.call('GET', '/api/v2/organizations/{organization}/groups', { params: { organization } });
  }

  group(id: string): Promise<Group | null> {
    return nullIfNotFound(this.http.call<Group>('GET', '/api/v2/groups/{group}', { params: { group: id } }));
  }

  /** The group's fields and member ids, streamed out of Coder's answer (see group-summary.ts); null on 404. */
  groupSummary(id: string): Promise<GroupSummary | null> {
    return nullIfNotFound(this.http.call<GroupSummary>('GET', '/api/v2/groups/{group}', { params: { group: id }, read: summarise }));
  }

  /** Exact, case-sensitive name. */
  groupSummaryByName(organization: string, name: string): Promise<GroupSummary | null> {
    return nullIfNotFound(
      this.http.call<GroupSummary>('GET', '/api/v2/organizations/{organization}/groups/{groupName}', {
        params: { organization, groupName: name },
        read: summarise,
      }),
    );
  }

  createGroup(organization: string, body: CreateGroupRequest): Promise<Group> {
    return this.http.call('POST', '/api/v2/organizations/{organization}/groups', { params: { organization }, body });
  }

  /** Coder's answer (the whole group) is not read: what was sent is what Coder now holds. */
  async patchGroup(id: string, body: PatchGroupRequest): Promise<void> {
    await this.http.call('PATCH', '/api/v2/groups/{group}', { params: { group: id }, body, read: drain });
  }

  async deleteGroup(id: string): Promise<void> {
    await this.http.call<CoderResponse>('DELETE', '/api/v2/groups/{group}', { params: { group: id } });
  }
}

/**
 * A search term Coder's query parser leaves whole. Whitespace, ':' and '"' are syntax there, so an address
 * containing them is searched by its longest plain fragment: still a substring, so the exact filter stays correct.
 */
export function emailSearchTerm(email: string): string {
  return email.split(/[\s:"]+/).reduce((longest, part) => (part.length > longest.length ? part : longest), '');
}

async function nullIfNotFound<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

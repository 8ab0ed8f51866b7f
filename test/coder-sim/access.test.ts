/** Roles, organizations, template ACLs, quotas, IdP sync settings and workspace stop in the simulator (coder-api.md §2.9, §3, §12). */
import { startCoderSim, type CoderSim } from './index';
import { api, createUser, uname } from './helpers';

let sim: CoderSim;
beforeAll(async () => {
  sim = await startCoderSim();
});
afterAll(async () => {
  await sim.close();
});

describe('site roles: PUT /users/{user}/roles', () => {
  test('full replace (deduplicated, member implied), readable on the user', async () => {
    const u = await createUser(sim, uname('site'));
    const r = await api(sim, 'PUT', `/users/${u.id}/roles`, { roles: ['template-admin', 'auditor', 'auditor', 'member'] });
    expect(r.status).toBe(200);
    expect(r.body.roles.map((x: { name: string }) => x.name)).toEqual(['template-admin', 'auditor']);
    expect((await api(sim, 'PUT', `/users/${u.id}/roles`, { roles: ['user-admin'] })).body.roles).toEqual([{ name: 'user-admin', display_name: 'User Admin' }]);
    expect(sim.roles(u.id).site).toEqual(['user-admin']);
    expect((await api(sim, 'GET', `/users/${u.id}/roles`)).body.roles).toEqual(['user-admin']);
  });

  test('own roles 400; unknown role 400; non-owner 403; role sync on + OIDC user 400', async () => {
    const self = await api(sim, 'PUT', '/users/me/roles', { roles: [] });
    expect(self).toMatchObject({ status: 400, body: { message: 'You cannot change your own roles.' } });
    const u = await createUser(sim, uname('site'));
    expect((await api(sim, 'PUT', `/users/${u.id}/roles`, { roles: ['admin'] })).body).toEqual({ message: '"admin" is not a supported role' });
    expect((await api(sim, 'PUT', `/users/${u.id}/roles`, { roles: ['organization-admin'] })).body).toEqual({ message: 'Must only update site wide roles' });
    const other = await createUser(sim, uname('site'));
    const token = sim.direct.createToken(other.id);
    expect((await api(sim, 'PUT', `/users/${u.id}/roles`, { roles: ['auditor'] }, { token })).status).toBe(403);
    sim.direct.setSiteRoleField('roles');
    try {
      const r = await api(sim, 'PUT', `/users/${u.id}/roles`, { roles: ['auditor'] });
      expect(r).toMatchObject({ status: 400, body: { message: 'Cannot modify roles for OIDC users when role sync is enabled.' } });
      // Coder checks role sync before self-change.
      expect(r.body.detail).toBe("'User Role Field' is set in the OIDC configuration. All role changes must come from the oidc identity provider.");
      const pw = await createUser(sim, uname('site'), { login_type: 'password', password: 'SomeSecurePassword!' });
      expect((await api(sim, 'PUT', `/users/${pw.id}/roles`, { roles: ['auditor'] })).status).toBe(200);
    } finally {
      sim.direct.setSiteRoleField('');
    }
    expect(sim.roles(u.id).site).toEqual([]);
  });
});

describe('organizations: members and organization roles', () => {
  test('a second organization: add, roles full replace, remove cascades out of its groups', async () => {
    const org = sim.direct.createOrganization(uname('org'));
    const u = await createUser(sim, uname('om'));
    expect((await api(sim, 'POST', `/organizations/${org}/members/${u.id}`)).body.roles).toEqual([]);
    const put = await api(sim, 'PUT', `/organizations/${org}/members/${u.id}/roles`, { roles: ['organization-admin', 'organization-auditor'] });
    expect(put.status).toBe(200);
    expect(put.body.roles).toEqual([
      { name: 'organization-admin', display_name: 'Organization Admin', organization_id: org },
      { name: 'organization-auditor', display_name: 'Organization Auditor', organization_id: org },
    ]);
    await api(sim, 'PUT', `/organizations/${org}/members/${u.id}/roles`, { roles: ['organization-user-admin'] });
    expect(sim.roles(u.id).organizations[org]).toEqual(['organization-user-admin']);
    // GET /users/{user}/roles carries each membership's roles (coderd/users.go userRoles).
    expect((await api(sim, 'GET', `/users/${u.id}/roles`)).body.organization_roles).toEqual({ [sim.defaultOrgId]: [], [org]: ['organization-user-admin'] });
    const g = await api(sim, 'POST', `/organizations/${org}/groups`, { name: 'in-org2' });
    await api(sim, 'PATCH', `/groups/${g.body.id}`, { add_users: [u.id] });
    expect((await api(sim, 'DELETE', `/organizations/${org}/members/${u.id}`)).status).toBe(204);
    expect(sim.groups(org).find((x) => x.id === g.body.id)!.members.size).toBe(0);
    expect(sim.roles(u.id).organizations[org]).toBeUndefined();
  });

  test('org roles: non-member 404, self 400, unknown role 400, org role sync on 400', async () => {
    const org = sim.direct.createOrganization(uname('org'));
    const u = await createUser(sim, uname('om'));
    expect((await api(sim, 'PUT', `/organizations/${org}/members/${u.id}/roles`, { roles: [] })).status).toBe(404);
    await api(sim, 'POST', `/organizations/${org}/members/${u.id}`);
    await api(sim, 'POST', `/organizations/${org}/members/${sim.ownerId}`);
    const self = await api(sim, 'PUT', `/organizations/${org}/members/me/roles`, { roles: [] });
    expect(self.body).toEqual({ message: 'You cannot change your own organization roles.', detail: 'Another user with the appropriate permissions must change your roles.' });
    expect((await api(sim, 'PUT', `/organizations/${org}/members/${u.id}/roles`, { roles: ['nope'] })).body).toEqual({ message: '"nope" is not a supported role' });
    expect((await api(sim, 'PUT', `/organizations/${org}/members/${u.id}/roles`, { roles: ['auditor'] })).body).toEqual({ message: 'Must only update org roles' });
    await api(sim, 'PATCH', `/organizations/${org}/settings/idpsync/roles`, { field: 'roles', mapping: {} });
    const synced = await api(sim, 'PUT', `/organizations/${org}/members/${u.id}/roles`, { roles: ['organization-admin'] });
    expect(synced.status).toBe(400);
    expect(synced.body.message).toMatch(/^Cannot modify roles for OIDC users when role sync is enabled\./);
    expect(synced.body.detail).toBe("'User Role Field' is set in the organization settings. Ask an administrator to adjust or disable these settings.");
  });

  test('organization sync on: manual add of an OIDC user 400, removal still allowed', async () => {
    const org = sim.direct.createOrganization(uname('org'));
    const u = await createUser(sim, uname('os'));
    const v = await createUser(sim, uname('os'));
    await api(sim, 'POST', `/organizations/${org}/members/${v.id}`);
    expect((await api(sim, 'PATCH', '/settings/idpsync/organization', { field: 'groups', mapping: {}, organization_assign_default: true })).status).toBe(200);
    try {
      const r = await api(sim, 'POST', `/organizations/${org}/members/${u.id}`);
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/^Organization sync is enabled for OIDC users/);
      expect((await api(sim, 'DELETE', `/organizations/${org}/members/${v.id}`)).status).toBe(204);
    } finally {
      await api(sim, 'PATCH', '/settings/idpsync/organization', { field: '', mapping: {}, organization_assign_default: true });
    }
  });
});

describe('custom organization roles', () => {
  test('create, list, assign, update, delete (removed from members); Coder refusals', async () => {
    const org = sim.direct.createOrganization(uname('org'));
    const perms = [{ negate: false, resource_type: 'template', action: 'read' }];
    const created = await api(sim, 'POST', `/organizations/${org}/members/roles`, { name: 'reviewer', display_name: 'Reviewer', organization_permissions: perms });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'reviewer', organization_id: org, organization_permissions: perms, site_permissions: [], user_permissions: [] });
    expect((await api(sim, 'POST', `/organizations/${org}/members/roles`, { name: 'reviewer' })).status).toBe(400);
    const list = await api(sim, 'GET', `/organizations/${org}/members/roles`);
    expect(list.body.map((r: { name: string }) => r.name)).toEqual(['organization-admin', 'organization-user-admin', 'organization-template-admin', 'organization-auditor', 'reviewer']);
    const u = await createUser(sim, uname('cr'));
    await api(sim, 'POST', `/organizations/${org}/members/${u.id}`);
    const assigned = await api(sim, 'PUT', `/organizations/${org}/members/${u.id}/roles`, { roles: ['reviewer'] });
    expect(assigned.body.roles).toEqual([{ name: 'reviewer', display_name: 'Reviewer', organization_id: org }]);
    expect((await api(sim, 'PUT', `/organizations/${org}/members/roles`, { name: 'reviewer', display_name: 'Code Reviewer' })).body.display_name).toBe('Code Reviewer');
    expect((await api(sim, 'PUT', `/organizations/${org}/members/roles`, { name: 'absent' })).status).toBe(404);

    expect((await api(sim, 'POST', `/organizations/${org}/members/roles`, { name: 'organization-admin' })).body).toEqual({
      message: 'Reserved role name',
      detail: '"organization-admin" is a reserved role name, and not allowed to be used',
    });
    expect((await api(sim, 'POST', `/organizations/${org}/members/roles`, { name: 'Bad Name' })).body.message).toBe('Invalid role name');
    const site = await api(sim, 'POST', `/organizations/${org}/members/roles`, { name: 'x', site_permissions: perms });
    expect(site.body).toEqual({ message: 'Invalid request, not allowed to assign site wide permissions for an organization role.', detail: 'organization scoped roles may not contain site wide permissions' });
    const user = await api(sim, 'POST', `/organizations/${org}/members/roles`, { name: 'x', user_permissions: perms });
    expect(user.body.message).toBe('Invalid request, not allowed to assign user permissions for an organization role.');

    expect((await api(sim, 'DELETE', `/organizations/${org}/members/roles/reviewer`)).status).toBe(204);
    expect(sim.roles(u.id).organizations[org]).toEqual([]);
    expect((await api(sim, 'DELETE', `/organizations/${org}/members/roles/reviewer`)).body).toEqual({ message: 'No custom role with the name reviewer found', detail: 'no role found' });
  });
});

describe('templates and template ACLs', () => {
  test('list per organization; ACL merge semantics, "" removes, Everyone group id = org id', async () => {
    const tid = sim.direct.createTemplate(uname('tpl'));
    const other = sim.direct.createTemplate(uname('tpl'), sim.direct.createOrganization(uname('org')));
    const names = (await api(sim, 'GET', `/organizations/${sim.defaultOrgId}/templates`)).body.map((t: { id: string }) => t.id);
    expect(names).toContain(tid);
    expect(names).not.toContain(other);
    expect(sim.templateAcl(tid).groups).toEqual({ [sim.defaultOrgId]: 'use' });

    const g = (await api(sim, 'POST', `/organizations/${sim.defaultOrgId}/groups`, { name: uname('aclg') })).body;
    const patched = await api(sim, 'PATCH', `/templates/${tid}/acl`, { group_perms: { [g.id]: 'admin' } });
    expect(patched).toMatchObject({ status: 200, body: { message: 'Successfully updated template ACL list.' } });
    expect(sim.templateAcl(tid).groups).toEqual({ [sim.defaultOrgId]: 'use', [g.id]: 'admin' });
    await api(sim, 'PATCH', `/templates/${tid}/acl`, { group_perms: { [sim.defaultOrgId]: '' } });
    expect(sim.templateAcl(tid).groups).toEqual({ [g.id]: 'admin' });
    const read = await api(sim, 'GET', `/templates/${tid}/acl`);
    expect(read.body.users).toEqual([]);
    expect(read.body.group.map((x: { id: string; role: string }) => [x.id, x.role])).toEqual([[g.id, 'admin']]);
  });

  test('ACL validation: role, UUID, existence; nothing applied on a 400', async () => {
    const tid = sim.direct.createTemplate(uname('tpl'));
    const missing = '7f3c9a4e-1b2d-4c5e-8f90-123456789abc';
    const r = await api(sim, 'PATCH', `/templates/${tid}/acl`, { group_perms: { 'not-a-uuid': 'use', [missing]: 'use', [sim.defaultOrgId]: 'owner' } });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('Invalid request to update template metadata!');
    expect(r.body.validations).toEqual(
      expect.arrayContaining([
        { field: 'group_perms', detail: 'ID not-a-uuidmust be a valid UUID.' },
        { field: 'group_perms', detail: `Failed to find resource with ID "${missing}": sql: no rows in result set` },
        { field: 'group_perms', detail: 'role "owner" is not a valid Template role' },
      ]),
    );
    expect(sim.templateAcl(tid).groups).toEqual({ [sim.defaultOrgId]: 'use' });
    expect((await api(sim, 'PATCH', `/templates/${tid}/acl`, { group_perms: { x: 1 } })).status).toBe(400);
  });
});

describe('group quotas', () => {
  test('quota_allowance on create and PATCH; the member budget sums their groups', async () => {
    const u = await createUser(sim, uname('q'));
    const a = (await api(sim, 'POST', `/organizations/${sim.defaultOrgId}/groups`, { name: uname('qa'), quota_allowance: 5 })).body;
    const b = (await api(sim, 'POST', `/organizations/${sim.defaultOrgId}/groups`, { name: uname('qb') })).body;
    await api(sim, 'PATCH', `/groups/${a.id}`, { add_users: [u.id] });
    const patched = await api(sim, 'PATCH', `/groups/${b.id}`, { add_users: [u.id], quota_allowance: 7 });
    expect(patched.body.quota_allowance).toBe(7);
    const quota = await api(sim, 'GET', `/organizations/${sim.defaultOrgId}/members/${u.id}/workspace-quota`);
    expect(quota.body).toEqual({ credits_consumed: 0, budget: 12 });
    expect((await api(sim, 'PATCH', `/groups/${a.id}`, { quota_allowance: 'x' })).status).toBe(400);
  });
});

describe('IdP sync settings', () => {
  test('groups and roles per organization, organization site-wide: defaults, PATCH replaces', async () => {
    const org = sim.direct.createOrganization(uname('org'));
    expect((await api(sim, 'GET', `/organizations/${org}/settings/idpsync/groups`)).body).toEqual({ field: '', mapping: {}, regex_filter: null, auto_create_missing_groups: false });
    const set = await api(sim, 'PATCH', `/organizations/${org}/settings/idpsync/groups`, { field: 'groups', mapping: { eng: [org] } });
    expect(set.body).toEqual({ field: 'groups', mapping: { eng: [org] }, regex_filter: null, auto_create_missing_groups: false });
    expect((await api(sim, 'GET', `/organizations/${org}/settings/idpsync/groups`)).body.field).toBe('groups');
    expect((await api(sim, 'GET', `/organizations/${org}/settings/idpsync/roles`)).body).toEqual({ field: '', mapping: {} });
    expect((await api(sim, 'GET', '/settings/idpsync/organization')).body).toMatchObject({ field: '' });
    const token = sim.direct.createToken((await createUser(sim, uname('idp'))).id);
    expect((await api(sim, 'PATCH', `/settings/idpsync/organization`, { field: 'x' }, { token })).status).toBe(403);
  });

  test("site role sync is the deployment's OIDC user_role_field, read by owners from GET /deployment/config", async () => {
    expect((await api(sim, 'GET', '/deployment/config')).body.config.oidc).toEqual({ user_role_field: '' });
    sim.direct.setSiteRoleField('roles');
    try {
      expect((await api(sim, 'GET', '/deployment/config')).body.config.oidc).toEqual({ user_role_field: 'roles' });
      const token = sim.direct.createToken((await createUser(sim, uname('dep'))).id);
      expect((await api(sim, 'GET', '/deployment/config', undefined, { token })).status).toBe(403);
    } finally {
      sim.direct.setSiteRoleField('');
    }
  });
});

describe('workspaces', () => {
  test('listed by owner; the stop build stops a running workspace', async () => {
    const u = await createUser(sim, uname('ws'));
    const tid = sim.direct.createTemplate(uname('tpl'));
    const wid = sim.direct.createWorkspace(u.id, 'dev', tid);
    const list = await api(sim, 'GET', `/workspaces?q=${encodeURIComponent(`owner:${u.username}`)}`);
    expect(list.body.count).toBe(1);
    expect(list.body.workspaces[0]).toMatchObject({ id: wid, owner_id: u.id, latest_build: { transition: 'start', status: 'running' } });
    const stop = await api(sim, 'POST', `/workspaces/${wid}/builds`, { transition: 'stop' });
    expect(stop.status).toBe(201);
    expect(stop.body).toMatchObject({ workspace_id: wid, build_number: 2, transition: 'stop', status: 'stopped' });
    expect(sim.workspaces(u.id)).toEqual([{ id: wid, name: 'dev', transition: 'stop' }]);
    expect((await api(sim, 'POST', `/workspaces/${wid}/builds`, { transition: 'pause' })).body).toEqual({
      message: 'Validation failed.',
      validations: [{ field: 'transition', detail: 'Validation failed for tag "oneof" with value: "pause"' }],
    });
    expect((await api(sim, 'POST', `/workspaces/${wid}/builds`, {})).body.validations).toEqual([{ field: 'transition', detail: 'Validation failed for tag "oneof" with value: ""' }]);
    expect((await api(sim, 'DELETE', `/users/${u.id}`)).status).toBe(417);
  });
});

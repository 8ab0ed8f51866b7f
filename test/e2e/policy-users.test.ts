import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bridge } from '../../src/bridge';
import type { AppliedUserState } from '../../src/reconcile/plan';
import type { SyncError } from '../../src/model/sync';
import { api } from '../coder-sim/helpers';
import { waitFor } from '../wait-for';
import { oktaUser, PATCH_OP, startE2E, type E2E } from './harness';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * Issue 12 on the user side, through SCIM into the simulator: Entra app roles (the SCIM `roles` attribute) and Okta
 * pushed groups grant site roles, organization memberships and organization roles; the bridge takes back only what
 * it granted; Coder's own IdP sync and privileged accounts are left alone with a failure that says why; a
 * suspended user's running workspaces stop.
 */

const POLICY = `
version: 1
onSuspend: stopWorkspaces
rules:
  - name: entra-template-admins
    match: { roles: [Coder.TemplateAdmin] }
    grants: { siteRoles: [template-admin] }
  - name: entra-auditors
    match: { roles: [Coder.Auditor] }
    grants: { siteRoles: [auditor] }
  - name: entra-ds-leads
    match: { roles: [DS.Lead] }
    grants:
      siteRoles: [auditor]
      organizations: [{ name: data-science, roles: [organization-admin] }]
  - name: okta-ds-admins
    match: { groups: ["DS Admins"] }
    grants:
      organizations: [{ name: data-science, roles: [organization-admin] }]
  - name: okta-ds-teams
    match: { groups: ["ds-*"] }
    grants:
      group: { organization: data-science }
  - name: okta-ops-auditors
    match: { groups: ["Ops Auditors"] }
    grants:
      organizations: [{ name: ops, roles: [organization-auditor] }]
`;

const WAIT_MS = 20_000;

let e2e: E2E;
let dataScience: string;
let ops: string;
let seq = 0;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-users-'));
  const file = join(dir, 'access-policy.yaml');
  writeFileSync(file, POLICY);
  e2e = await startE2E({
    env: (sim) => {
      dataScience = sim.direct.createOrganization('data-science');
      ops = sim.direct.createOrganization('ops');
      return { ACCESS_POLICY_FILE: file };
    },
  });
});

afterAll(async () => {
  await e2e.close();
});

function entraUser(roles: unknown[] = []): Record<string, unknown> {
  seq += 1;
  const email = `entra-${seq}@contoso.test`;
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    externalId: `ext-${seq}`,
    userName: email,
    active: true,
    emails: [{ primary: true, type: 'work', value: email }],
    name: { givenName: 'Entra', familyName: `User${seq}` },
    roles,
  };
}

async function pushUser(body: Record<string, unknown>): Promise<{ id: string; coderId: string }> {
  const reply = await e2e.scim('POST', '/Users', body);
  expect(reply.status).toBe(201);
  const id: string = reply.body.id;
  let coderId = '';
  await waitFor(
    async () => {
      coderId = (await applied(id))?.coderId ?? '';
      return coderId !== '';
    },
    WAIT_MS,
    `user ${id} in Coder`,
  );
  await settled();
  return { id, coderId };
}

async function patchUser(id: string, ...operations: unknown[]): Promise<void> {
  const reply = await e2e.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: operations });
  expect([200, 204]).toContain(reply.status);
}

async function applied(id: string): Promise<AppliedUserState | undefined> {
  return (await e2e.store.getSync<AppliedUserState>('user', id))?.applied;
}

async function lastError(id: string): Promise<SyncError | undefined> {
  return (await e2e.admin('GET', `/resources/Users/${id}`)).body.sync?.lastError ?? undefined;
}

/** The queue is idle and no resource waits for a reconcile. */
async function settled(): Promise<void> {
  await waitFor(
    async () => {
      const status = (await e2e.admin('GET', '/status')).body;
      return status.queue.waiting + status.queue.active + status.queue.delayed === 0 && (await e2e.store.pending()).length === 0;
    },
    WAIT_MS,
    'an idle queue',
  );
}

const site = (coderId: string) => [...e2e.sim.roles(coderId).site].sort();
const orgRoles = (coderId: string, orgId: string) => e2e.sim.roles(coderId).organizations[orgId];

describe('Entra app roles (the SCIM roles attribute)', () => {
  test('roles[primary eq "True"].value gives a site role; replacing and removing the role takes it back', async () => {
    const { id, coderId } = await pushUser(entraUser());
    expect(site(coderId)).toEqual([]);

    await patchUser(id, { op: 'Replace', path: 'roles[primary eq "True"].value', value: 'Coder.TemplateAdmin' });
    await waitFor(() => site(coderId).join() === 'template-admin', WAIT_MS, 'template-admin granted');

    await patchUser(id, { op: 'Replace', path: 'roles[primary eq "True"].value', value: 'Coder.Auditor' });
    await waitFor(() => site(coderId).join() === 'auditor', WAIT_MS, 'template-admin replaced by auditor');

    await patchUser(id, { op: 'Remove', path: 'roles' });
    await waitFor(() => site(coderId).length === 0, WAIT_MS, 'auditor taken back');
    await settled();
    expect((await applied(id))?.access?.granted).toEqual({ siteRoles: [], organizations: {} });
  });

  test('a user deleted in SCIM gives back what the bridge granted before it is suspended; a deactivated one keeps it', async () => {
    const { id, coderId } = await pushUser(entraUser([{ primary: true, value: 'Coder.TemplateAdmin' }]));
    await waitFor(() => site(coderId).join() === 'template-admin', WAIT_MS, 'template-admin granted');
    await patchUser(id, { op: 'Replace', path: 'active', value: 'False' });
    await waitFor(async () => (await applied(id))?.status === 'suspended', WAIT_MS, 'suspended');
    expect(site(coderId)).toEqual(['template-admin']);

    expect((await e2e.scim('DELETE', `/Users/${id}`)).status).toBe(204);
    await waitFor(() => site(coderId).length === 0, WAIT_MS, 'template-admin taken back');
    await settled();
    expect(e2e.sim.users().find((user) => user.id === coderId)?.status).toBe('suspended');
  });

  test('a roles array (Entra POST) gives every role it names', async () => {
    const { coderId } = await pushUser(
      entraUser([
        { primary: true, type: 'WindowsAzureActiveDirectoryRole', display: 'Template admin', value: 'Coder.TemplateAdmin' },
        { primary: false, type: 'WindowsAzureActiveDirectoryRole', display: 'Auditor', value: 'Coder.Auditor' },
      ]),
    );
    await waitFor(() => site(coderId).join() === 'auditor,template-admin', WAIT_MS, 'both site roles');
  });

  test('one Coder write per changed grant, none for a change the policy does not see', async () => {
    const { id, coderId } = await pushUser(entraUser());
    e2e.sim.resetCalls();
    // Site role, membership of data-science and organization-admin there: three grants, three writes.
    await patchUser(id, { op: 'Add', path: 'roles', value: [{ value: 'DS.Lead', display: 'DS lead' }] });
    await waitFor(() => orgRoles(coderId, dataScience)?.join() === 'organization-admin' && site(coderId).join() === 'auditor', WAIT_MS, 'DS.Lead granted');
    await settled();
    expect(e2e.sim.writeCalls()).toBe(3);
    const calls = e2e.sim.calls();
    expect(calls['POST /api/v2/organizations/{org}/members/{user}']).toBe(1);
    expect(calls['PUT /api/v2/organizations/{org}/members/{user}/roles']).toBe(1);
    expect(calls['PUT /api/v2/users/{user}/roles']).toBe(1);

    // A role value no rule matches, and a title: the ask is unchanged, Coder is not even read.
    e2e.sim.resetCalls();
    await patchUser(id, { op: 'Add', path: 'roles', value: [{ value: 'Unrelated.Role' }] }, { op: 'Replace', path: 'title', value: 'Lead' });
    await settled();
    expect(e2e.sim.calls()).toEqual({});
  });
  test('a user created with an organization grant is created in that organization: no join call', async () => {
    e2e.sim.resetCalls();
    const { id, coderId } = await pushUser(entraUser([{ primary: true, value: 'DS.Lead' }]));
    await waitFor(() => orgRoles(coderId, dataScience)?.join() === 'organization-admin' && site(coderId).join() === 'auditor', WAIT_MS, 'DS.Lead granted');
    await settled();
    const calls = e2e.sim.calls();
    expect(calls['POST /api/v2/organizations/{org}/members/{user}']).toBeUndefined();
    expect(e2e.sim.writeCalls()).toBe(3);
    expect((await applied(id))?.access).toEqual({
      granted: { siteRoles: ['auditor'], organizations: { 'data-science': { member: true, roles: ['organization-admin'] } } },
      desired: { siteRoles: ['auditor'], organizations: { 'data-science': ['organization-admin'] } },
      organizationIds: expect.arrayContaining([e2e.sim.defaultOrgId, dataScience]),
    });
  });
});

describe('Okta pushed groups', () => {
  test('a group gives membership of a second organization with organization-admin; leaving the group takes both back', async () => {
    const { id, coderId } = await pushUser(oktaUser(`okta-ds-${++seq}@example.com`, 'Dee', 'Ess'));
    const group = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'DS Admins', members: [{ value: id }] });
    expect(group.status).toBe(201);
    await waitFor(() => orgRoles(coderId, dataScience)?.join() === 'organization-admin', WAIT_MS, 'member of data-science as organization-admin');
    await settled();
    expect((await applied(id))?.access?.organizationIds).toContain(dataScience);

    const removed = await e2e.scim('PATCH', `/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] });
    expect([200, 204]).toContain(removed.status);
    await waitFor(() => orgRoles(coderId, dataScience) === undefined, WAIT_MS, 'data-science membership taken back');
    await settled();
    expect((await applied(id))?.access).toMatchObject({ granted: { siteRoles: [], organizations: {} } });
    expect((await applied(id))?.access?.organizationIds).not.toContain(dataScience);
  });

  test('a group the policy places in another organization makes its members members there, without roles', async () => {
    const { id, coderId } = await pushUser(oktaUser(`okta-team-${++seq}@example.com`, 'Tea', 'Mmate'));
    const group = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'ds-notebooks', members: [{ value: id }] });
    expect(group.status).toBe(201);
    await waitFor(() => orgRoles(coderId, dataScience) !== undefined, WAIT_MS, 'member of data-science');
    await settled();
    expect(orgRoles(coderId, dataScience)).toEqual([]);
    expect((await applied(id))?.access).toMatchObject({ granted: { siteRoles: [], organizations: { 'data-science': { member: true, roles: [] } } } });
    // Once the user is there, the group (which lives there) takes it in.
    await waitFor(() => e2e.sim.groups(dataScience).some((g) => g.name === 'ds-notebooks' && g.members.has(coderId)), WAIT_MS, 'the group in data-science takes the user in');
  });
});

describe('grants made by hand', () => {
  test('a site role given by hand survives when the policy stops granting; so does one the policy asked for that was already there', async () => {
    const { id, coderId } = await pushUser(entraUser());
    // By hand, before the policy asks for it: not the bridge's.
    e2e.sim.direct.setUserRoles(coderId, ['auditor']);
    await patchUser(id, { op: 'Add', path: 'roles', value: [{ value: 'Coder.Auditor' }, { value: 'Coder.TemplateAdmin' }] });
    await waitFor(() => site(coderId).join() === 'auditor,template-admin', WAIT_MS, 'template-admin granted');
    await settled();
    expect((await applied(id))?.access?.granted.siteRoles).toEqual(['template-admin']);
    // By hand, after the bridge granted template-admin.
    e2e.sim.direct.setUserRoles(coderId, ['auditor', 'template-admin', 'user-admin']);

    await patchUser(id, { op: 'Remove', path: 'roles' });
    await waitFor(() => site(coderId).join() === 'auditor,user-admin', WAIT_MS, 'only template-admin taken back');
  });

  test('an organization membership and role made by hand survive when the group is left', async () => {
    const { id, coderId } = await pushUser(oktaUser(`okta-hand-${++seq}@example.com`, 'Hand', 'Made'));
    expect((await api(e2e.sim, 'POST', `/organizations/${dataScience}/members/${coderId}`)).status).toBe(200);
    expect((await api(e2e.sim, 'PUT', `/organizations/${dataScience}/members/${coderId}/roles`, { roles: ['organization-auditor'] })).status).toBe(200);

    const group = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'DS Admins', members: [{ value: id }] });
    await waitFor(() => orgRoles(coderId, dataScience)?.join() === 'organization-admin,organization-auditor', WAIT_MS, 'organization-admin added');
    await settled();
    expect((await applied(id))?.access?.granted.organizations).toEqual({ 'data-science': { member: false, roles: ['organization-admin'] } });

    await e2e.scim('DELETE', `/Groups/${group.body.id}`);
    await waitFor(() => orgRoles(coderId, dataScience)?.join() === 'organization-auditor', WAIT_MS, 'organization-admin taken back, membership kept');
  });
});

describe('accounts the bridge does not manage', () => {
  test('an adopted account that gained a site role by hand is never given or stripped of anything', async () => {
    const body = entraUser();
    const existing = e2e.sim.direct.createUser({ username: `adopt-${seq}`, email: body.userName as string, loginType: 'oidc', status: 'active' });
    const { id, coderId } = await pushUser(body);
    expect(coderId).toBe(existing.id);
    expect((await applied(id))?.adopted).toBe(true);

    // The bridge promotes the adopted account: that role is its own doing, and does not lock it out.
    await patchUser(id, { op: 'Add', path: 'roles', value: [{ value: 'Coder.TemplateAdmin' }] });
    await waitFor(() => site(coderId).join() === 'template-admin', WAIT_MS, 'template-admin granted to the adopted account');
    await patchUser(id, { op: 'Replace', path: 'name.givenName', value: 'Renamed' });
    await waitFor(() => e2e.sim.users().find((user) => user.id === coderId)?.name.startsWith('Renamed') === true, WAIT_MS, 'rename applied');

    // Someone makes it a user-admin by hand: from now on it is not the bridge's.
    e2e.sim.direct.setUserRoles(coderId, ['template-admin', 'user-admin']);
    await patchUser(id, { op: 'Remove', path: 'roles' }, { op: 'Add', path: 'roles', value: [{ value: 'Coder.Auditor' }] });
    await waitFor(async () => (await lastError(id))?.code === 'conflict', WAIT_MS, 'a conflict');
    expect((await lastError(id))?.message).toMatch(/user-admin/);
    expect(site(coderId)).toEqual(['template-admin', 'user-admin']);
  });
});

describe("Coder's own IdP sync", () => {
  afterEach(() => e2e.sim.direct.setSiteRoleField(''));

  test('site role sync on: a permanent failure naming the setting, in /admin/resources and /admin/status', async () => {
    const { id, coderId } = await pushUser(entraUser());
    e2e.sim.direct.setSiteRoleField('roles');
    await patchUser(id, { op: 'Add', path: 'roles', value: [{ value: 'Coder.Auditor' }] });
    await waitFor(async () => (await lastError(id)) !== undefined, WAIT_MS, 'the failure');
    const error = (await lastError(id))!;
    expect(error).toMatchObject({ code: 'idp_sync', permanent: true });
    expect(error.message).toContain('CODER_OIDC_USER_ROLE_FIELD');
    expect(site(coderId)).toEqual([]);
    const status = (await e2e.admin('GET', '/status')).body;
    expect(JSON.stringify(status.failures)).toContain('CODER_OIDC_USER_ROLE_FIELD');
  });

  test('a user deleted in SCIM is suspended even when Coder refuses to take back its site role', async () => {
    const { id, coderId } = await pushUser(entraUser([{ primary: true, value: 'Coder.TemplateAdmin' }]));
    await waitFor(() => site(coderId).join() === 'template-admin', WAIT_MS, 'template-admin granted');
    e2e.sim.direct.setSiteRoleField('roles');
    expect((await e2e.scim('DELETE', `/Users/${id}`)).status).toBe(204);
    await waitFor(async () => (await lastError(id)) !== undefined, WAIT_MS, 'the failure');
    expect(e2e.sim.users().find((user) => user.id === coderId)?.status).toBe('suspended');
    expect(await lastError(id)).toMatchObject({ code: 'idp_sync', permanent: true });
    expect(site(coderId)).toEqual(['template-admin']);
  });

  test('organization sync on: the manual add is refused, with the setting named', async () => {
    const { id, coderId } = await pushUser(oktaUser(`okta-orgsync-${++seq}@example.com`, 'Org', 'Sync'));
    expect((await api(e2e.sim, 'PATCH', '/settings/idpsync/organization', { field: 'groups', mapping: {}, organization_assign_default: true })).status).toBe(200);
    try {
      await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'DS Admins', members: [{ value: id }] });
        await waitFor(async () => (await lastError(id)) !== undefined, WAIT_MS, 'the failure');
      expect(await lastError(id)).toMatchObject({ code: 'idp_sync', permanent: true });
      expect((await lastError(id))!.message).toContain('IdP organization sync field');
      expect(orgRoles(coderId, dataScience)).toBeUndefined();
    } finally {
      await api(e2e.sim, 'PATCH', '/settings/idpsync/organization', { field: '', mapping: {}, organization_assign_default: true });
    }
  });

  test("an organization's role sync on: the membership is made and recorded, the role refused with the setting named", async () => {
    const { id, coderId } = await pushUser(oktaUser(`okta-ops-${++seq}@example.com`, 'Op', 'Ess'));
    expect((await api(e2e.sim, 'PATCH', `/organizations/${ops}/settings/idpsync/roles`, { field: 'roles', mapping: {} })).status).toBe(200);
    try {
      await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Ops Auditors', members: [{ value: id }] });
        await waitFor(async () => (await lastError(id)) !== undefined, WAIT_MS, 'the failure');
      const error = (await lastError(id))!;
      expect(error).toMatchObject({ code: 'idp_sync', permanent: true });
      expect(error.message).toMatch(/organization ops.*role sync/);
      expect(orgRoles(coderId, ops)).toEqual([]);
      // The join succeeded before the refusal: the bridge remembers it owns that membership.
      expect((await applied(id))?.access).toMatchObject({ partial: true, granted: { organizations: { ops: { member: true, roles: [] } } } });
    } finally {
      await api(e2e.sim, 'PATCH', `/organizations/${ops}/settings/idpsync/roles`, { field: '', mapping: {} });
    }
  });
});

describe('onSuspend: stopWorkspaces', () => {
  test('deactivating a user stops its running workspaces, once; stopped ones are left alone', async () => {
    const { id, coderId } = await pushUser(entraUser());
    const template = e2e.sim.direct.createTemplate(`tpl-${seq}`);
    e2e.sim.direct.createWorkspace(coderId, 'one', template);
    e2e.sim.direct.createWorkspace(coderId, 'two', template);
    const stoppedByHand = e2e.sim.direct.createWorkspace(coderId, 'three', template);
    expect((await api(e2e.sim, 'POST', `/workspaces/${stoppedByHand}/builds`, { transition: 'stop' })).status).toBe(201);
    e2e.sim.resetCalls();

    await patchUser(id, { op: 'Replace', path: 'active', value: 'False' });
    await waitFor(() => e2e.sim.workspaces(coderId).every((workspace) => workspace.transition === 'stop'), WAIT_MS, 'workspaces stopped');
    await settled();
    expect(e2e.sim.calls()['POST /api/v2/workspaces/{workspace}/builds']).toBe(2);
    expect(e2e.sim.users().find((user) => user.id === coderId)?.status).toBe('suspended');
    expect((await applied(id))?.access?.workspacesStopped).toBe(true);

    // A later change while suspended does not look at the workspaces again.
    e2e.sim.resetCalls();
    await patchUser(id, { op: 'Replace', path: 'name.givenName', value: 'Gone' });
    await waitFor(() => e2e.sim.users().find((user) => user.id === coderId)?.name.startsWith('Gone') === true, WAIT_MS, 'rename applied');
    await settled();
    expect(e2e.sim.calls()['GET /api/v2/workspaces']).toBeUndefined();

    // Activation clears the mark: the next suspension stops again.
    await patchUser(id, { op: 'Replace', path: 'active', value: 'True' });
    await waitFor(async () => (await applied(id))?.status !== 'suspended', WAIT_MS, 'activated');
    await settled();
    expect((await applied(id))?.access?.workspacesStopped).toBeUndefined();
  });
});

describe('a policy edit', () => {
  test('takes back what the bridge granted and nothing made by hand; one write per changed grant', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-edit-'));
    const file = join(dir, 'access-policy.yaml');
    const grants = (siteRoles: string) => `version: 1
rules:
  - match: { roles: [Coder.Dev] }
    grants:
      siteRoles: [${siteRoles}]
      organizations: [{ name: data-science, roles: [organization-admin] }]
`;
    writeFileSync(file, grants('template-admin, auditor'));
    let ds = '';
    const edited = await startE2E({
      env: (sim) => {
        ds = sim.direct.createOrganization('data-science');
        return { ACCESS_POLICY_FILE: file };
      },
    });
    try {
      const reply = await edited.scim('POST', '/Users', entraUser([{ primary: true, value: 'Coder.Dev' }]));
      expect(reply.status).toBe(201);
      const id: string = reply.body.id;
      let coderId = '';
      await waitFor(
        async () => {
          coderId = (await edited.store.getSync<AppliedUserState>('user', id))?.applied?.coderId ?? '';
          return coderId !== '' && edited.sim.roles(coderId).site.length === 2 && edited.sim.roles(coderId).organizations[ds]?.length === 1;
        },
        WAIT_MS,
        'the first policy applied',
      );
      // By hand: user-admin, and organization-auditor in data-science.
      edited.sim.direct.setUserRoles(coderId, [...edited.sim.roles(coderId).site, 'user-admin']);
      expect((await api(edited.sim, 'PUT', `/organizations/${ds}/members/${coderId}/roles`, { roles: ['organization-admin', 'organization-auditor'] })).status).toBe(200);
      await waitFor(async () => (await edited.store.pending()).length === 0, WAIT_MS, 'nothing pending');
      edited.sim.resetCalls();

      writeFileSync(file, grants('auditor'));
      await (edited.bridge as unknown as Bridge).reloadPolicy();
      await waitFor(() => !edited.sim.roles(coderId).site.includes('template-admin'), WAIT_MS, 'template-admin taken back');
      await waitFor(async () => (await edited.store.pending()).length === 0, WAIT_MS, 'nothing pending');
      expect([...edited.sim.roles(coderId).site].sort()).toEqual(['auditor', 'user-admin']);
      expect(edited.sim.roles(coderId).organizations[ds]).toEqual(['organization-admin', 'organization-auditor']);
      expect(edited.sim.writeCalls()).toBe(1);
    } finally {
      await edited.close();
    }
  });
});

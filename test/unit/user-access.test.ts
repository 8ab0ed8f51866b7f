import type { CoderClient } from '../../src/coder/client';
import { CoderApiError } from '../../src/coder/errors';
import type { Organization, UserRoles, Workspace } from '../../src/coder/types';
import type { StoredResource } from '../../src/model/resource';
import { AccessPolicyHolder } from '../../src/policy/holder';
import { accessPolicySchema } from '../../src/policy/schema';
import { accessRefusal, ReconcileError } from '../../src/reconcile/errors';
import { OrgDirectory } from '../../src/reconcile/org-directory';
import type { AppliedUserAccess, AppliedUserState } from '../../src/reconcile/plan';
import type { Progress } from '../../src/reconcile/reconcile-resource';
import { UserAccessApplier } from '../../src/reconcile/user-access';
import { asksNothing, coderAccessOf, newOrganizationIds, recordAfter, sameUserAccess, scimRoleValues, workspacesToStop } from '../../src/reconcile/user-access-plan';
import type { DesiredStore } from '../../src/store/types';

const org = (id: string, name: string): Organization => ({ id, name, display_name: name, description: '', icon: '', created_at: '', updated_at: '', is_default: false });
const BASE = org('base-id', 'coder');
const DS = org('ds-id', 'data-science');

const refusal = (message: string) => new CoderApiError({ status: 400, message, method: 'PUT', route: '/api/v2/users/{user}/roles' });

describe('scimRoleValues', () => {
  test('values of a roles array, of a primary role set by path, deduplicated; entries without a value grant nothing', () => {
    const doc = { id: 'u', roles: [{ value: 'A', primary: true }, { value: 'B', display: 'b', type: 'WindowsAzureActiveDirectoryRole' }, { display: 'no value' }, { value: '' }, { value: 'A' }, null] };
    expect(scimRoleValues(doc)).toEqual(['A', 'B']);
    expect(scimRoleValues({ id: 'u' })).toEqual([]);
    expect(scimRoleValues({ id: 'u', roles: 'A' })).toEqual([]);
  });
});

describe('sameUserAccess', () => {
  test('equal asks, whatever the key order; any role or organization differing is a change', () => {
    const a = { siteRoles: ['auditor'], organizations: { x: ['r'], y: [] } };
    expect(sameUserAccess(a, { siteRoles: ['auditor'], organizations: { y: [], x: ['r'] } })).toBe(true);
    expect(sameUserAccess(a, { siteRoles: [], organizations: { x: ['r'], y: [] } })).toBe(false);
    expect(sameUserAccess(a, { siteRoles: ['auditor'], organizations: { x: [], y: [] } })).toBe(false);
    expect(sameUserAccess(a, { siteRoles: ['auditor'], organizations: { x: ['r'] } })).toBe(false);
  });
});

describe('asksNothing', () => {
  test('only the base organization without roles asks nothing of Coder', () => {
    expect(asksNothing({ siteRoles: [], organizations: {} }, 'coder')).toBe(true);
    expect(asksNothing({ siteRoles: [], organizations: { coder: [] } }, 'coder')).toBe(true);
    expect(asksNothing({ siteRoles: [], organizations: { coder: ['organization-auditor'] } }, 'coder')).toBe(false);
    expect(asksNothing({ siteRoles: [], organizations: { ds: [] } }, 'coder')).toBe(false);
    expect(asksNothing({ siteRoles: ['auditor'], organizations: {} }, 'coder')).toBe(false);
  });
});

describe('coderAccessOf', () => {
  test('organizations by name, implied roles dropped, organizations nobody can name left out', () => {
    const roles: UserRoles = { roles: ['member', 'auditor'], organization_roles: { 'ds-id': ['organization-member', 'organization-admin'], 'other-id': ['x'] } };
    expect(coderAccessOf(roles, (id) => (id === 'ds-id' ? 'data-science' : undefined))).toEqual({ siteRoles: ['auditor'], organizations: { 'data-science': ['organization-admin'] } });
  });
});

describe('recordAfter', () => {
  const start: AppliedUserAccess = { granted: { siteRoles: [], organizations: { ds: { member: false, roles: ['a'] } } }, desired: { siteRoles: [], organizations: {} }, organizationIds: ['base'], partial: true };

  test('a join keeps roles the bridge owned there and lists the organization', () => {
    const joined = recordAfter.join(start, 'ds', 'ds-id');
    expect(joined.granted.organizations.ds).toEqual({ member: true, roles: ['a'] });
    expect(joined.organizationIds).toEqual(['base', 'ds-id']);
    expect(start.granted.organizations.ds.member).toBe(false);
  });

  test('organization roles, site roles and a leave', () => {
    expect(recordAfter.orgRoles(start, 'ds', []).granted.organizations).toEqual({});
    expect(recordAfter.orgRoles(start, 'ops', ['b']).granted.organizations.ops).toEqual({ member: false, roles: ['b'] });
    expect(recordAfter.siteRoles(start, ['auditor']).granted.siteRoles).toEqual(['auditor']);
    const left = recordAfter.leave(recordAfter.join(start, 'ds', 'ds-id'), 'ds', 'ds-id');
    expect(left.granted.organizations).toEqual({});
    expect(left.organizationIds).toEqual(['base']);
  });
});

describe('newOrganizationIds', () => {
  test('organizations newly known, the base one aside', () => {
    const record = (organizationIds: string[]): AppliedUserAccess => ({ granted: { siteRoles: [], organizations: {} }, desired: { siteRoles: [], organizations: {} }, organizationIds });
    expect(newOrganizationIds(undefined, record(['base', 'x']), 'base')).toEqual(['x']);
    expect(newOrganizationIds(record(['base', 'x']), record(['base', 'x', 'y']), 'base')).toEqual(['y']);
    expect(newOrganizationIds(record(['x']), record([]), 'base')).toEqual([]);
  });
});

describe('workspacesToStop', () => {
  test("only the user's workspaces whose latest build started them", () => {
    const ws = (id: string, owner: string, transition: 'start' | 'stop' | 'delete'): Workspace => ({ id, name: id, owner_id: owner, organization_id: 'o', latest_build: { id: 'b', transition, status: 'running' } });
    expect(workspacesToStop([ws('a', 'u', 'start'), ws('b', 'u', 'stop'), ws('c', 'other', 'start'), ws('d', 'u', 'delete')], 'u').map((w) => w.id)).toEqual(['a']);
  });
});

describe('accessRefusal', () => {
  test("Coder's role sync, organization role sync and organization sync name the setting to change; own roles name the token user", () => {
    const site = accessRefusal(refusal('Cannot modify roles for OIDC users when role sync is enabled.'), { call: 'siteRoles' }, 'alice');
    expect(site).toMatchObject({ code: 'idp_sync', permanent: true });
    expect(site!.message).toContain('CODER_OIDC_USER_ROLE_FIELD');
    const orgRoles = accessRefusal(refusal('Cannot modify roles for OIDC users when role sync is enabled. This organization member...'), { call: 'orgRoles', organization: 'ds' }, 'alice');
    expect(orgRoles!.message).toMatch(/organization ds.*role sync/);
    const orgSync = accessRefusal(refusal('Organization sync is enabled for OIDC users, meaning ...'), { call: 'orgMember', organization: 'ds' }, 'alice');
    expect(orgSync!.message).toContain('IdP organization sync field');
    const own = accessRefusal(refusal('You cannot change your own roles.'), { call: 'siteRoles' }, 'admin');
    expect(own).toMatchObject({ code: 'conflict', permanent: true });
    expect(own!.message).toContain('admin');
  });

  test('any other error is left to the usual classification', () => {
    expect(accessRefusal(refusal('"x" is not a supported role'), { call: 'siteRoles' }, 'a')).toBeUndefined();
    expect(accessRefusal(new CoderApiError({ status: 500, message: 'Cannot modify roles for OIDC users when role sync is enabled.', method: 'PUT', route: 'r' }), { call: 'siteRoles' }, 'a')).toBeUndefined();
    expect(accessRefusal(new Error('x'), { call: 'siteRoles' }, 'a')).toBeUndefined();
  });
});

// ---------- the applier, with Coder and the store faked ----------

const POLICY = accessPolicySchema.parse({
  version: 1,
  onSuspend: 'stopWorkspaces',
  rules: [
    { match: { roles: ['Admin'] }, grants: { siteRoles: ['template-admin'], organizations: [{ name: 'data-science', roles: ['organization-admin'] }] } },
    { match: { groups: ['Auditors'] }, grants: { siteRoles: ['auditor'] } },
  ],
});

interface World {
  coder: jest.Mocked<Pick<CoderClient, 'userRoles' | 'putSiteRoles' | 'putOrgMemberRoles' | 'addOrgMember' | 'removeOrgMember' | 'workspacesOf' | 'stopWorkspace' | 'organizations'>>;
  store: Pick<DesiredStore, 'userGroupIds' | 'getGroups'>;
  applier: UserAccessApplier;
  holder: AccessPolicyHolder;
}

function world(options: { roles?: UserRoles; groups?: string[]; tokenUserId?: string } = {}): World {
  const roles = options.roles ?? { roles: [], organization_roles: { 'base-id': [] } };
  const coder = {
    userRoles: jest.fn(async () => structuredClone(roles)),
    putSiteRoles: jest.fn(async () => undefined),
    putOrgMemberRoles: jest.fn(async () => undefined),
    addOrgMember: jest.fn(async () => ({ alreadyMember: false })),
    removeOrgMember: jest.fn(async () => undefined),
    workspacesOf: jest.fn(async () => [] as Workspace[]),
    stopWorkspace: jest.fn(async () => undefined),
    organizations: jest.fn(async () => [BASE, DS]),
  } as unknown as World['coder'];
  const groups = (options.groups ?? []).map((displayName, i): StoredResource => ({ id: `g${i}`, version: 1, doc: { id: `g${i}`, displayName } }) as unknown as StoredResource);
  const store = { userGroupIds: jest.fn(async () => groups.map((g) => g.id)), getGroups: jest.fn(async () => groups) };
  const holder = new AccessPolicyHolder(POLICY, BASE.name);
  const applier = new UserAccessApplier({
    coder: coder as unknown as CoderClient,
    store: store as unknown as DesiredStore,
    adoption: { tokenUserId: async () => options.tokenUserId ?? 'token-user', groups: { all: false, names: new Set() } },
    access: { policy: holder, orgs: new OrgDirectory(coder, BASE) },
  });
  return { coder, store, applier, holder };
}

const writes = (w: World) =>
  w.coder.putSiteRoles.mock.calls.length + w.coder.putOrgMemberRoles.mock.calls.length + w.coder.addOrgMember.mock.calls.length + w.coder.removeOrgMember.mock.calls.length;

function progressOf(applied: Partial<AppliedUserState> = {}): Progress<AppliedUserState> {
  const user: AppliedUserState = { coderId: 'c1', username: 'alice', email: 'a@x.io', name: 'A', status: 'active', orgMember: true, ...applied };
  return { applied: user, notes: [], operations: [], followUps: [], createdCoderIds: [] };
}

const userDoc = (roles: string[]): StoredResource => ({ id: 'u1', version: 1, doc: { id: 'u1', roles: roles.map((value) => ({ value })) } }) as unknown as StoredResource;

describe('UserAccessApplier', () => {
  test('joins, organization roles, then site roles, recorded; the same ask again costs no Coder call', async () => {
    const w = world();
    const progress = progressOf();
    await w.applier.converge('u1', userDoc(['Admin']), progress, false);
    expect(progress.operations).toEqual(['joinOrganization', 'putOrganizationRoles', 'putSiteRoles']);
    expect(w.coder.addOrgMember).toHaveBeenCalledWith('ds-id', 'c1');
    expect(w.coder.putOrgMemberRoles).toHaveBeenCalledWith('ds-id', 'c1', ['organization-admin']);
    expect(w.coder.putSiteRoles).toHaveBeenCalledWith('c1', ['template-admin']);
    expect(progress.applied!.access).toEqual({
      granted: { siteRoles: ['template-admin'], organizations: { 'data-science': { member: true, roles: ['organization-admin'] } } },
      desired: { siteRoles: ['template-admin'], organizations: { 'data-science': ['organization-admin'] } },
      organizationIds: ['base-id', 'ds-id'],
    });

    w.coder.userRoles.mockClear();
    await w.applier.converge('u1', userDoc(['Admin']), progress, false);
    expect(w.coder.userRoles).not.toHaveBeenCalled();
    // A resync reads Coder whatever the ask.
    await w.applier.converge('u1', userDoc(['Admin']), progress, true);
    expect(w.coder.userRoles).toHaveBeenCalledTimes(1);
  });

  test('no policy and no record: neither the store nor Coder is read', async () => {
    const w = world();
    w.holder.replace(undefined);
    const progress = progressOf();
    await w.applier.converge('u1', userDoc(['Admin']), progress, true);
    expect(w.store.userGroupIds).not.toHaveBeenCalled();
    expect(w.coder.userRoles).not.toHaveBeenCalled();
    expect(progress.applied!.access).toBeUndefined();
  });

  test('a policy matching no group does not read the user\'s groups', async () => {
    const w = world({ groups: ['Auditors'] });
    w.holder.replace(accessPolicySchema.parse({ version: 1, rules: [{ match: { roles: ['Admin'] }, grants: { siteRoles: ['auditor'] } }] }));
    const progress = progressOf();
    await w.applier.converge('u1', userDoc(['Admin']), progress, false);
    expect(w.store.userGroupIds).not.toHaveBeenCalled();
    expect(w.coder.putSiteRoles).toHaveBeenCalledWith('c1', ['auditor']);
  });

  test('a policy that asks nothing of a user the bridge granted nothing: no Coder call', async () => {
    const w = world({ groups: ['Unrelated'] });
    const progress = progressOf();
    await w.applier.converge('u1', userDoc(['Other']), progress, true);
    expect(w.coder.userRoles).not.toHaveBeenCalled();
  });

  test('a failure part-way keeps what succeeded, marked partial, so the next run reads Coder again', async () => {
    const w = world();
    w.coder.putSiteRoles.mockRejectedValueOnce(new CoderApiError({ status: 500, message: 'boom', method: 'PUT', route: 'r' }));
    const progress = progressOf();
    await expect(w.applier.converge('u1', userDoc(['Admin']), progress, false)).rejects.toThrow('boom');
    // The site role the failed call was to add stays the bridge's: a 500 may have been applied (harmless if not:
    // Coder lacks it, so nothing is ever removed on its account).
    expect(progress.applied!.access).toMatchObject({
      partial: true,
      granted: { siteRoles: ['template-admin'], organizations: { 'data-science': { member: true, roles: ['organization-admin'] } } },
      organizationIds: ['base-id', 'ds-id'],
    });
  });

  test('an IdP-sync refusal becomes a permanent idp_sync failure; what Coder refused is not recorded as granted', async () => {
    const w = world();
    w.coder.putSiteRoles.mockRejectedValueOnce(refusal('Cannot modify roles for OIDC users when role sync is enabled.'));
    const progress = progressOf();
    await expect(w.applier.converge('u1', userDoc(['Admin']), progress, false)).rejects.toMatchObject({ code: 'idp_sync', permanent: true });
    expect(progress.applied!.access!.granted).toEqual({ siteRoles: [], organizations: { 'data-science': { member: true, roles: ['organization-admin'] } } });
  });

  test("the token's own user is never changed", async () => {
    const w = world({ tokenUserId: 'c1' });
    await expect(w.applier.converge('u1', userDoc(['Admin']), progressOf(), false)).rejects.toBeInstanceOf(ReconcileError);
    expect(writes(w)).toBe(0);
  });

  test('an adopted user: a hand-made site role stops the bridge; the roles it granted itself do not', async () => {
    const granted: AppliedUserAccess = { granted: { siteRoles: ['template-admin'], organizations: {} }, desired: { siteRoles: ['template-admin'], organizations: {} }, organizationIds: ['base-id'] };
    const mine = world({ roles: { roles: ['template-admin'], organization_roles: { 'base-id': [] } }, groups: ['Auditors'] });
    await mine.applier.converge('u1', userDoc([]), progressOf({ adopted: true, access: granted }), false);
    expect(mine.coder.putSiteRoles).toHaveBeenCalledWith('c1', ['auditor']);

    const theirs = world({ roles: { roles: ['template-admin', 'user-admin'], organization_roles: { 'base-id': [] } }, groups: ['Auditors'] });
    await expect(theirs.applier.converge('u1', userDoc([]), progressOf({ adopted: true, access: granted }), false)).rejects.toMatchObject({ code: 'conflict' });
    expect(writes(theirs)).toBe(0);
  });

  test('a deleted SCIM user gives back what the bridge granted, and only that', async () => {
    const granted: AppliedUserAccess = {
      granted: { siteRoles: ['template-admin'], organizations: { 'data-science': { member: true, roles: ['organization-admin'] } } },
      desired: { siteRoles: ['template-admin'], organizations: { 'data-science': ['organization-admin'] } },
      organizationIds: ['base-id', 'ds-id'],
    };
    const w = world({ roles: { roles: ['template-admin', 'auditor'], organization_roles: { 'base-id': [], 'ds-id': ['organization-admin'] } } });
    const progress = progressOf({ access: granted });
    await w.applier.converge('u1', null, progress, false);
    expect(w.coder.putSiteRoles).toHaveBeenCalledWith('c1', ['auditor']);
    expect(w.coder.removeOrgMember).toHaveBeenCalledWith('ds-id', 'c1');
    expect(w.coder.putOrgMemberRoles).not.toHaveBeenCalled();
    expect(progress.applied!.access).toEqual({ granted: { siteRoles: [], organizations: {} }, desired: { siteRoles: [], organizations: {} }, organizationIds: ['base-id'] });
  });

  test('onSuspend: stopWorkspaces stops running workspaces once per suspension', async () => {
    const w = world();
    const ws: Workspace = { id: 'w1', name: 'w1', owner_id: 'c1', organization_id: 'base-id', latest_build: { id: 'b', transition: 'start', status: 'running' } };
    w.coder.workspacesOf.mockResolvedValue([ws]);
    const progress = progressOf({ status: 'suspended' });
    await w.applier.stopWorkspacesIfSuspended(progress);
    expect(w.coder.stopWorkspace).toHaveBeenCalledWith('w1');
    expect(progress.applied!.access?.workspacesStopped).toBe(true);
    await w.applier.stopWorkspacesIfSuspended(progress);
    expect(w.coder.workspacesOf).toHaveBeenCalledTimes(1);
    progress.applied = { ...progress.applied!, status: 'active' };
    await w.applier.stopWorkspacesIfSuspended(progress);
    expect(progress.applied!.access?.workspacesStopped).toBeUndefined();
  });

  test("onSuspend: leave (the default) never looks at workspaces", async () => {
    const w = world();
    w.holder.replace(accessPolicySchema.parse({ version: 1, rules: [] }));
    await w.applier.stopWorkspacesIfSuspended(progressOf({ status: 'suspended' }));
    expect(w.coder.workspacesOf).not.toHaveBeenCalled();
  });
});

describe('grants written ahead of the calls', () => {
  test('what the calls add is recorded before the first one: a crash after Coder applied it still lets the bridge take it back', async () => {
    const w = world();
    const progress = progressOf();
    const checkpoints: (AppliedUserAccess | undefined)[] = [];
    let writesBefore = -1;
    progress.checkpoint = async () => {
      writesBefore = writes(w);
      checkpoints.push(structuredClone(progress.applied!.access));
    };
    // The process dies once Coder applied the site roles: the PUT's answer (and the record after it) never come.
    w.coder.putSiteRoles.mockImplementationOnce(async () => {
      throw new Error('killed');
    });
    await expect(w.applier.converge('u1', userDoc(['Admin']), progress, false)).rejects.toThrow('killed');
    expect(checkpoints).toHaveLength(1);
    expect(checkpoints[0]!.granted).toEqual({ siteRoles: ['template-admin'], organizations: { 'data-science': { member: true, roles: ['organization-admin'] } } });
    expect(checkpoints[0]!.partial).toBe(true);
    expect(writesBefore).toBe(0);

    // After the restart the bridge reads the checkpoint, while Coder holds everything; the policy then stops granting.
    const restarted = world({ roles: { roles: ['template-admin'], organization_roles: { 'base-id': [], 'ds-id': ['organization-admin'] } } });
    const after = progressOf({ access: checkpoints[0] });
    await restarted.applier.converge('u1', userDoc([]), after, false);
    expect(restarted.coder.putSiteRoles).toHaveBeenCalledWith('c1', []);
    expect(restarted.coder.removeOrgMember).toHaveBeenCalledWith('ds-id', 'c1');
    expect(after.applied!.access!.granted).toEqual({ siteRoles: [], organizations: {} });
  });

  test('a role that was in Coder before is never written ahead as the bridge\'s', async () => {
    const w = world({ roles: { roles: ['template-admin'], organization_roles: { 'base-id': [] } } });
    const progress = progressOf();
    const checkpoints: AppliedUserAccess[] = [];
    progress.checkpoint = async () => void checkpoints.push(structuredClone(progress.applied!.access!));
    await w.applier.converge('u1', userDoc(['Admin']), progress, false);
    expect(checkpoints[0].granted.siteRoles).toEqual([]);
    expect(progress.applied!.access!.granted.siteRoles).toEqual([]);
  });
});

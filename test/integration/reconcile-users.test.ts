import { parseAdoptGroups } from '../../src/model/adopt-groups';
import { UserReconciler } from '../../src/reconcile/user-reconciler';
import { callsDuring, openReconcileHarness, type ReconcileHarness } from './reconcile-harness';

/** The user reconciler against real Redis and the Coder simulator, driving the store directly. */
let h: ReconcileHarness;

beforeEach(async () => {
  h = await openReconcileHarness();
});

afterEach(async () => {
  await h.close();
});

const counting = (action: () => Promise<unknown>) => callsDuring(h.sim, action);

function simUser(coderId: string) {
  return h.sim.users().find((u) => u.id === coderId && !u.deleted);
}

async function provision(userName: string, extra: Record<string, unknown> = {}) {
  const stored = await h.addUser(userName, extra);
  const result = await h.users.reconcile(stored.doc.id);
  const sync = await h.userSync(stored.doc.id);
  return { id: stored.doc.id, stored, result, sync, coderId: sync?.applied?.coderId ?? '' };
}

test('a new user is created with the mapped fields and org membership in one POST', async () => {
  const stored = await h.addUser('alice.smith@example.com', { name: { givenName: 'Alice', familyName: 'Smith' } });
  const calls = await counting(() => h.users.reconcile(stored.doc.id));
  expect(calls).toEqual({ 'POST /api/v2/users': 1 });

  const sync = await h.userSync(stored.doc.id);
  expect(sync).toMatchObject({ appliedVersion: stored.version, applied: { username: 'alice-smith', orgMember: true } });
  expect(sync?.lastError).toBeUndefined();
  const user = simUser(sync!.applied!.coderId);
  expect(user).toMatchObject({ username: 'alice-smith', email: 'alice.smith@example.com', name: 'Alice Smith', login_type: 'oidc', status: 'dormant' });
  expect(h.sim.orgMembers()).toContain(user!.id);
  expect(await h.claims.holder('user', user!.id)).toBe(stored.doc.id);
  expect(await h.store.pending()).toEqual([]);
});

test('reconciling again changes nothing and calls Coder not at all', async () => {
  const { id } = await provision('bob');
  let outcome = '';
  const calls = await counting(async () => {
    outcome = (await h.users.reconcile(id)).outcome;
  });
  expect(outcome).toBe('unchanged');
  expect(calls).toEqual({});
});

test('a user provisioned inactive is created suspended in the same POST', async () => {
  const stored = await h.addUser('carol', { active: false });
  const calls = await counting(() => h.users.reconcile(stored.doc.id));
  expect(calls).toEqual({ 'POST /api/v2/users': 1 });
  expect(simUser((await h.userSync(stored.doc.id))!.applied!.coderId)?.status).toBe('suspended');
});

test('rename: one profile update; the new username and name land in Coder', async () => {
  const { id, coderId } = await provision('dave');
  await h.updateUser(id, { userName: 'david', name: { formatted: 'David D' } });
  const calls = await counting(() => h.users.reconcile(id));
  expect(calls).toEqual({ 'PUT /api/v2/users/{user}/profile': 1 });
  expect(simUser(coderId)).toMatchObject({ username: 'david', name: 'David D' });
});

test('suspend and reactivate: one status call each', async () => {
  const { id, coderId } = await provision('erin');
  await h.updateUser(id, { active: false });
  expect(await counting(() => h.users.reconcile(id))).toEqual({ 'PUT /api/v2/users/{user}/status/suspend': 1 });
  expect(simUser(coderId)?.status).toBe('suspended');

  await h.updateUser(id, { active: true });
  expect(await counting(() => h.users.reconcile(id))).toEqual({ 'PUT /api/v2/users/{user}/status/activate': 1 });
  expect(simUser(coderId)?.status).toBe('active');
});

test('an e-mail change is recorded as not appliable, without a call', async () => {
  const { id, coderId } = await provision('frank');
  await h.updateUser(id, { emails: [{ value: 'frank@new.example.com', primary: true }] });
  expect(await counting(() => h.users.reconcile(id))).toEqual({});
  const sync = await h.userSync(id);
  expect(sync?.notes?.join(' ')).toContain('frank@new.example.com');
  expect(sync?.lastError).toBeUndefined();
  expect(simUser(coderId)?.email).toBe('frank@example.com');
});

test('delete under the suspend policy: suspended, kept as a tombstone, then left alone', async () => {
  const { id, coderId } = await provision('gina');
  await h.store.deleteUser(id);
  expect(await counting(() => h.users.reconcile(id))).toEqual({ 'PUT /api/v2/users/{user}/status/suspend': 1 });
  expect(simUser(coderId)?.status).toBe('suspended');
  expect(await h.userSync(id)).toMatchObject({ deleted: true, applied: { status: 'suspended' } });
  expect(await counting(() => h.users.reconcile(id))).toEqual({});
  expect(await h.store.pending()).toEqual([]);
});

test('delete under the delete policy: deleted in Coder, sync status and claim gone', async () => {
  const { id, coderId } = await provision('hank');
  await h.store.deleteUser(id);
  expect(await counting(() => h.usersWithPolicy('delete').reconcile(id))).toEqual({ 'DELETE /api/v2/users/{user}': 1 });
  expect(simUser(coderId)).toBeUndefined();
  expect(await h.userSync(id)).toBeNull();
  expect(await h.claims.holder('user', coderId)).toBeNull();
});

test('a user who owns workspaces (417) is suspended instead, and the reason recorded', async () => {
  const { id, coderId } = await provision('ivan');
  h.sim.direct.addWorkspace(coderId);
  await h.store.deleteUser(id);
  const result = await h.usersWithPolicy('delete').reconcile(id);
  expect(result.outcome).toBe('applied');
  expect(simUser(coderId)?.status).toBe('suspended');
  const sync = await h.userSync(id);
  expect(sync).toMatchObject({ deleted: true, applied: { status: 'suspended' } });
  expect(sync?.notes?.join(' ')).toMatch(/workspaces/);
});

test('an existing Coder user is adopted on 409 and added to the organization', async () => {
  const existing = h.sim.direct.createUser({ username: 'judy', email: 'judy@example.com', orgIds: [] });
  const { id, sync } = await provision('judy');
  expect(sync?.applied).toMatchObject({ coderId: existing.id, orgMember: true });
  expect(h.sim.users().filter((u) => u.username === 'judy' && !u.deleted)).toHaveLength(1);
  expect(h.sim.orgMembers()).toContain(existing.id);
  expect(await h.claims.holder('user', existing.id)).toBe(id);
});

test('adoption by e-mail when the username is free', async () => {
  const existing = h.sim.direct.createUser({ username: 'kim-legacy', email: 'kim@example.com' });
  const { sync } = await provision('kim');
  expect(sync?.applied?.coderId).toBe(existing.id);
  expect(sync?.applied?.username).toBe('kim-legacy');
});

test('a username claimed by another SCIM user gets a numeric suffix', async () => {
  const first = await provision('leo');
  const second = await provision('leo@elsewhere.example.com', { emails: [{ value: 'leo@elsewhere.example.com', primary: true }] });
  expect(second.sync?.applied).toMatchObject({ username: 'leo-1', mappedUsername: 'leo' });
  expect(second.coderId).not.toBe(first.coderId);
  expect(simUser(second.coderId)?.email).toBe('leo@elsewhere.example.com');
  // Stable afterwards: no rename back to "leo".
  expect(await counting(() => h.users.reconcile(second.id))).toEqual({});
});

test('an e-mail held by a user another SCIM user claims is a permanent conflict', async () => {
  await provision('mia');
  const { result, sync } = await provision('mia-other', { emails: [{ value: 'mia@example.com', primary: true }] });
  expect(result.outcome).toBe('failed');
  expect(sync?.lastError).toMatchObject({ code: 'conflict', permanent: true });
});

test('a permanent Coder error is recorded and not retried until a new version (or force)', async () => {
  // Coder refuses to suspend an owner (400). A user the bridge created stays its own whatever roles it gains.
  const { id, coderId } = await provision('owner-later');
  h.sim.direct.setUserRoles(coderId, ['owner']);
  const updated = await h.updateUser(id, { active: false });
  const failed = await h.users.reconcile(id);
  expect(failed.outcome).toBe('failed');
  const sync = await h.userSync(id);
  expect(sync?.lastError).toMatchObject({ code: 'coder_http', coderStatus: 400, permanent: true, version: updated.version });
  expect(await h.store.pending()).toEqual([]);

  expect(await counting(async () => expect((await h.users.reconcile(id)).outcome).toBe('skipped'))).toEqual({});
  expect(await counting(() => h.users.reconcile(id, { force: true }))).toEqual({ 'PUT /api/v2/users/{user}/status/suspend': 1 });

  await h.updateUser(id, { active: true });
  const retried = await h.users.reconcile(id);
  expect(retried.outcome).toBe('unchanged');
  expect((await h.userSync(id))?.lastError).toBeUndefined();
});

test('a user that cannot be mapped (no e-mail) is a permanent unappliable error', async () => {
  const stored = await h.addUser('oscar', { emails: [] });
  const result = await h.users.reconcile(stored.doc.id);
  expect(result.outcome).toBe('failed');
  expect((await h.userSync(stored.doc.id))?.lastError).toMatchObject({ code: 'unappliable', permanent: true });
});

test('a transient Coder failure is rethrown and keeps the pending mark', async () => {
  const stored = await h.addUser('paul');
  h.sim.setOptions({ outage: true });
  await expect(h.users.reconcile(stored.doc.id)).rejects.toThrow();
  h.sim.setOptions({ outage: false });
  expect((await h.store.pending()).map((p) => p.id)).toContain(stored.doc.id);
  expect((await h.userSync(stored.doc.id))?.lastError).toMatchObject({ permanent: false });
  expect((await h.users.reconcile(stored.doc.id)).outcome).toBe('applied');
  expect(await h.store.pending()).toEqual([]);
});

test('a user re-provisioned after deletion takes over the suspended Coder user from the tombstone', async () => {
  const old = await provision('quinn');
  await h.store.deleteUser(old.id);
  await h.users.reconcile(old.id);
  const again = await provision('quinn');
  expect(again.sync?.applied?.coderId).toBe(old.coderId);
  expect(await h.claims.holder('user', old.coderId)).toBe(again.id);
  expect(await h.userSync(old.id)).toBeNull();
  expect(simUser(old.coderId)?.status).toBe('active');
});

describe('adoption rules', () => {
  const PRIVILEGED_ROLES = [['owner'], ['user-admin'], ['template-admin'], ['auditor'], ['a-custom-site-role']];

  function coderState(coderId: string) {
    const user = simUser(coderId);
    return { user, orgMember: h.sim.orgMembers().includes(coderId) };
  }

  test('an e-mail equal but for ASCII case adopts the ordinary Coder user (same id)', async () => {
    const existing = h.sim.direct.createUser({ username: 'nora-old', email: 'Nora@Example.COM', loginType: 'oidc' });
    const { sync, id } = await provision('nora');
    expect(sync?.applied).toMatchObject({ coderId: existing.id, adopted: true });
    expect(sync?.lastError).toBeUndefined();
    expect(await h.claims.holder('user', existing.id)).toBe(id);
  });

  test('a username alone never adopts: a clash with a Coder user of another e-mail takes the next suffix', async () => {
    const existing = h.sim.direct.createUser({ username: 'olga', email: 'olga.original@example.com', name: 'Olga O', loginType: 'oidc' });
    const before = coderState(existing.id);
    const { sync, coderId } = await provision('olga');
    expect(sync?.applied).toMatchObject({ username: 'olga-1', mappedUsername: 'olga', email: 'olga@example.com' });
    expect(sync?.applied?.adopted).toBeUndefined();
    expect(coderId).not.toBe(existing.id);
    expect(coderState(existing.id)).toEqual(before);
    expect(await h.claims.holder('user', existing.id)).toBeNull();
  });

  test.each(PRIVILEGED_ROLES)('a Coder user with the site role %s is never adopted: a permanent conflict naming it and the rule', async (role) => {
    const existing = h.sim.direct.createUser({ username: `priv-${role}`, email: 'priv@example.com', name: 'Priv', status: 'active', roles: [role], orgIds: [] });
    const before = coderState(existing.id);
    const stored = await h.addUser('priv', { active: false, name: { formatted: 'Someone Else' } });
    h.sim.resetCalls();
    const result = await h.users.reconcile(stored.doc.id);

    expect(result.outcome).toBe('failed');
    const sync = await h.userSync(stored.doc.id);
    expect(sync?.applied).toBeUndefined();
    expect(sync?.lastError).toMatchObject({ code: 'conflict', permanent: true });
    expect(sync?.lastError?.message).toContain(`Coder user priv-${role}`);
    expect(sync?.lastError?.message).toContain(`site role ${role}`);
    // One refused POST, then reads only: nothing of the account changed.
    expect(h.sim.writeCalls()).toBe(1);
    expect(coderState(existing.id)).toEqual(before);
    expect(await h.claims.holder('user', existing.id)).toBeNull();
    // Permanent: not retried for this version.
    expect(await counting(async () => expect((await h.users.reconcile(stored.doc.id)).outcome).toBe('skipped'))).toEqual({});
  });

  test("the bridge's own token user is never adopted, even without a site role", async () => {
    const tokenUser = h.sim.direct.createUser({ username: 'bridge-bot', email: 'bridge-bot@example.com', status: 'active' });
    const before = coderState(tokenUser.id);
    const users = new UserReconciler({
      store: h.store,
      claims: h.claims,
      queue: h.queue,
      coder: h.coder,
      ctx: h.ctx,
      adoption: { tokenUserId: async () => tokenUser.id, groups: parseAdoptGroups(undefined) },
    });
    const stored = await h.addUser('bridge-bot', { active: false });
    expect((await users.reconcile(stored.doc.id)).outcome).toBe('failed');
    expect((await h.userSync(stored.doc.id))?.lastError?.message).toMatch(/bridge-bot.*token user/);
    expect(coderState(tokenUser.id)).toEqual(before);
  });

  test('an adopted user that later gains a site role is no longer changed; a created one still is', async () => {
    const existing = h.sim.direct.createUser({ username: 'pia', email: 'pia@example.com', loginType: 'oidc' });
    const adopted = await provision('pia');
    expect(adopted.coderId).toBe(existing.id);
    const created = await provision('quentin');

    h.sim.direct.setUserRoles(existing.id, ['template-admin']);
    h.sim.direct.setUserRoles(created.coderId, ['template-admin']);
    const before = coderState(existing.id);
    await h.updateUser(adopted.id, { active: false });
    await h.updateUser(created.id, { active: false });

    expect(await counting(async () => expect((await h.users.reconcile(adopted.id)).outcome).toBe('failed'))).toEqual({ 'GET /api/v2/users/{user}': 1 });
    expect((await h.userSync(adopted.id))?.lastError).toMatchObject({ code: 'conflict', permanent: true });
    expect((await h.userSync(adopted.id))?.lastError?.message).toMatch(/adopted as Coder user pia.*site role template-admin/);
    expect(coderState(existing.id)).toEqual(before);

    // No read for a user the bridge created: one call, and it is applied.
    expect(await counting(() => h.users.reconcile(created.id))).toEqual({ 'PUT /api/v2/users/{user}/status/suspend': 1 });
    expect(simUser(created.coderId)?.status).toBe('suspended');

    // Its roles removed, the adopted account is the bridge's again (the operator's way to hand it over).
    h.sim.direct.setUserRoles(existing.id, []);
    expect((await h.users.reconcile(adopted.id, { force: true })).outcome).toBe('applied');
    expect(simUser(existing.id)?.status).toBe('suspended');
  });

  test('a tombstone of an adopted user that gained a role does not suspend it', async () => {
    const existing = h.sim.direct.createUser({ username: 'rhea', email: 'rhea@example.com', status: 'active' });
    const { id } = await provision('rhea');
    h.sim.direct.setUserRoles(existing.id, ['auditor']);
    await h.store.deleteUser(id);
    expect((await h.users.reconcile(id)).outcome).toBe('failed');
    expect(simUser(existing.id)?.status).toBe('active');
  });
});

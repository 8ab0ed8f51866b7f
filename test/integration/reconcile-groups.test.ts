import { AccessPolicyHolder } from '../../src/policy/holder';
import { accessPolicySchema } from '../../src/policy/schema';
import { parseAdoptGroups } from '../../src/model/adopt-groups';
import { GroupReconciler } from '../../src/reconcile/group-reconciler';
import { OrgDirectory } from '../../src/reconcile/org-directory';
import { callsDuring, openReconcileHarness, type ReconcileHarness } from './reconcile-harness';

/** The group reconciler against real Redis and the Coder simulator, driving the store directly. */
let h: ReconcileHarness;

beforeEach(async () => {
  h = await openReconcileHarness();
});

afterEach(async () => {
  await h.close();
});

const counting = (action: () => Promise<unknown>) => callsDuring(h.sim, action);

/** A SCIM user already reconciled into Coder: returns its SCIM id and Coder id. */
async function provisionedUser(userName: string): Promise<{ id: string; coderId: string }> {
  const stored = await h.addUser(userName);
  await h.users.reconcile(stored.doc.id);
  return { id: stored.doc.id, coderId: (await h.userSync(stored.doc.id))!.applied!.coderId };
}

function simGroup(coderId: string) {
  return h.sim.groups().find((g) => g.id === coderId);
}

function simMembers(coderId: string): string[] {
  return [...(simGroup(coderId)?.members ?? [])].sort();
}

test('a new group is created with its members: one POST and one PATCH', async () => {
  const [a, b] = [await provisionedUser('ann'), await provisionedUser('ben')];
  const group = await h.addGroup('Platform Team', [a.id, b.id]);
  const calls = await counting(() => h.groups.reconcile(group.doc.id));
  expect(calls).toEqual({ 'POST /api/v2/organizations/{org}/groups': 1, 'PATCH /api/v2/groups/{group}': 1 });

  const sync = await h.groupSync(group.doc.id);
  expect(sync).toMatchObject({ appliedVersion: group.version, applied: { name: 'Platform-Team', displayName: 'Platform Team' } });
  const coderId = sync!.applied!.coderId;
  expect(simGroup(coderId)).toMatchObject({ name: 'Platform-Team', display_name: 'Platform Team' });
  expect(simMembers(coderId)).toEqual([a.coderId, b.coderId].sort());
});

test('members not yet in Coder are skipped, and join when their user lands', async () => {
  const a = await provisionedUser('cat');
  const late = await h.addUser('dan');
  const group = await h.addGroup('Ops', [a.id, late.doc.id]);
  await h.groups.reconcile(group.doc.id);
  const coderId = (await h.groupSync(group.doc.id))!.applied!.coderId;
  expect(simMembers(coderId)).toEqual([a.coderId]);

  h.queue.take();
  await h.users.reconcile(late.doc.id);
  expect(h.queue.take()).toEqual([{ kind: 'group', id: group.doc.id }]);
  const lateCoderId = (await h.userSync(late.doc.id))!.applied!.coderId;
  expect(await counting(() => h.groups.reconcile(group.doc.id))).toEqual({ 'PATCH /api/v2/groups/{group}': 1 });
  expect(simMembers(coderId)).toEqual([a.coderId, lateCoderId].sort());
});

test('a user that lands while its new group is reconciled without it still queues that group', async () => {
  const late = await h.addUser('dot');
  // The user's create is held back until the group (with the user as member) is written and reconciled.
  let release!: () => void;
  const released = new Promise<void>((done) => (release = done));
  let createStarted!: () => void;
  const createHeld = new Promise<void>((done) => (createStarted = done));
  const held = Object.create(h.coder) as typeof h.coder;
  held.createUser = async (body) => {
    createStarted();
    await released;
    return h.coder.createUser(body);
  };
  const userReconcile = h.usersThrough(held).reconcile(late.doc.id);
  await createHeld;
  const group = await h.addGroup('Racers', [late.doc.id]);
  await h.groups.reconcile(group.doc.id);
  const coderId = (await h.groupSync(group.doc.id))!.applied!.coderId;
  expect(simMembers(coderId)).toEqual([]);
  h.queue.take();

  release();
  await userReconcile;
  expect(h.queue.take()).toEqual([{ kind: 'group', id: group.doc.id }]);
  await h.groups.reconcile(group.doc.id);
  expect(simMembers(coderId)).toEqual([(await h.userSync(late.doc.id))!.applied!.coderId]);
});

test('rename and member changes travel in one PATCH', async () => {
  const [a, b, c] = [await provisionedUser('eve'), await provisionedUser('fay'), await provisionedUser('gus')];
  const group = await h.addGroup('Eng', [a.id, b.id]);
  await h.groups.reconcile(group.doc.id);
  const coderId = (await h.groupSync(group.doc.id))!.applied!.coderId;

  await h.store.updateGroup(group.doc.id, (current) => ({ doc: { ...current.doc, displayName: 'Engineering' }, fields: { displayName: 'Engineering' } }));
  await h.store.changeMembers(group.doc.id, { add: [c.id], remove: [a.id] });
  expect(await counting(() => h.groups.reconcile(group.doc.id))).toEqual({ 'PATCH /api/v2/groups/{group}': 1 });
  expect(simGroup(coderId)).toMatchObject({ name: 'Engineering', display_name: 'Engineering' });
  expect(simMembers(coderId)).toEqual([b.coderId, c.coderId].sort());
  expect(await counting(() => h.groups.reconcile(group.doc.id))).toEqual({});
});

test('a member already added in Coder (400 duplicate) is recovered by re-reading the group', async () => {
  const [a, b] = [await provisionedUser('hal'), await provisionedUser('ida')];
  const group = await h.addGroup('Support', [a.id]);
  await h.groups.reconcile(group.doc.id);
  const coderId = (await h.groupSync(group.doc.id))!.applied!.coderId;

  h.sim.direct.addGroupMember(coderId, b.coderId);
  await h.store.changeMembers(group.doc.id, { add: [b.id] });
  const calls = await counting(() => h.groups.reconcile(group.doc.id));
  expect(calls['PATCH /api/v2/groups/{group}']).toBe(1);
  expect(calls['GET /api/v2/groups/{group}']).toBe(1);
  expect(simMembers(coderId)).toEqual([a.coderId, b.coderId].sort());
  const sync = await h.groupSync(group.doc.id);
  expect(sync?.lastError).toBeUndefined();
  expect(sync?.applied?.membersTracked).toBe(true);
  expect((await h.store.appliedMemberCoderIds(group.doc.id)).sort()).toEqual([a.coderId, b.coderId].sort());
});

test('an existing Coder group not listed in ADOPT_GROUPS is a permanent conflict and stays exactly as it was', async () => {
  const [a, outsider] = [await provisionedUser('jon'), await provisionedUser('kai')];
  const existing = h.sim.direct.createGroup({ name: 'QA', display_name: 'Quality' });
  h.sim.direct.addGroupMember(existing.id, outsider.coderId);
  const before = simGroup(existing.id);
  const group = await h.addGroup('QA', [a.id]);
  h.sim.resetCalls();
  const result = await h.groups.reconcile(group.doc.id);
  expect(result.outcome).toBe('failed');
  const sync = await h.groupSync(group.doc.id);
  expect(sync?.applied).toBeUndefined();
  expect(sync?.lastError).toMatchObject({ code: 'conflict', permanent: true });
  expect(sync?.lastError?.message).toMatch(/Coder group QA .*ADOPT_GROUPS/);
  expect(h.sim.writeCalls()).toBe(1);
  expect(simGroup(existing.id)).toEqual(before);
  expect(simMembers(existing.id)).toEqual([outsider.coderId]);
  expect(await h.claims.holder('group', existing.id)).toBeNull();
});

test.each(['QA', 'Ops, QA', '*'])('with ADOPT_GROUPS=%s the existing group is adopted on 409, its members corrected', async (adoptGroups) => {
  const [a, outsider] = [await provisionedUser('jon'), await provisionedUser('kai')];
  const existing = h.sim.direct.createGroup({ name: 'QA' });
  h.sim.direct.addGroupMember(existing.id, outsider.coderId);
  const group = await h.addGroup('QA', [a.id]);
  await h.groupsAdopting(adoptGroups).reconcile(group.doc.id);
  expect((await h.groupSync(group.doc.id))?.applied?.coderId).toBe(existing.id);
  expect(h.sim.groups().filter((g) => g.name === 'QA')).toHaveLength(1);
  expect(simMembers(existing.id)).toEqual([a.coderId]);
});

test('ADOPT_GROUPS names are exact Coder group names', async () => {
  const existing = h.sim.direct.createGroup({ name: 'QA' });
  const group = await h.addGroup('QA', []);
  expect((await h.groupsAdopting('qa').reconcile(group.doc.id)).outcome).toBe('failed');
  expect(simGroup(existing.id)).toEqual(existing);
});

test('a group name claimed by another SCIM group gets a numeric suffix', async () => {
  const first = await h.addGroup('Design', []);
  await h.groups.reconcile(first.doc.id);
  const second = await h.addGroup('Design', []);
  await h.groups.reconcile(second.doc.id);
  const [one, two] = [await h.groupSync(first.doc.id), await h.groupSync(second.doc.id)];
  expect(two?.applied).toMatchObject({ name: 'Design-1', mappedName: 'Design' });
  expect(two?.applied?.coderId).not.toBe(one?.applied?.coderId);
  expect(await counting(() => h.groups.reconcile(second.doc.id))).toEqual({});
});

test('a deleted group is deleted in Coder and its sync status removed', async () => {
  const group = await h.addGroup('Temp', []);
  await h.groups.reconcile(group.doc.id);
  const coderId = (await h.groupSync(group.doc.id))!.applied!.coderId;
  await h.store.deleteGroup(group.doc.id);
  expect(await counting(() => h.groups.reconcile(group.doc.id))).toEqual({ 'DELETE /api/v2/groups/{group}': 1 });
  expect(simGroup(coderId)).toBeUndefined();
  expect(await h.groupSync(group.doc.id)).toBeNull();
  expect(await h.store.pending()).toEqual([]);
});

test('a group deleted outside the bridge is created again on the next change', async () => {
  const a = await provisionedUser('lea');
  const group = await h.addGroup('Infra', []);
  await h.groups.reconcile(group.doc.id);
  const coderId = (await h.groupSync(group.doc.id))!.applied!.coderId;
  h.sim.direct.deleteGroup(coderId);
  await h.store.changeMembers(group.doc.id, { add: [a.id] });
  await h.groups.reconcile(group.doc.id);
  const recreated = (await h.groupSync(group.doc.id))!.applied!.coderId;
  expect(recreated).not.toBe(coderId);
  expect(simMembers(recreated)).toEqual([a.coderId]);
});

test('unlicensed groups: recorded as permanently failed, users keep provisioning', async () => {
  h.sim.setOptions({ groupsLicensed: false });
  const groups = await h.groupsAfterLicenceCheck();
  const a = await provisionedUser('max');
  expect(h.sim.users().some((u) => u.id === a.coderId)).toBe(true);

  const group = await h.addGroup('Licensed Only', [a.id]);
  let outcome = '';
  const calls = await counting(async () => {
    outcome = (await groups.reconcile(group.doc.id)).outcome;
  });
  expect(outcome).toBe('failed');
  expect(calls).toEqual({});
  expect((await h.groupSync(group.doc.id))?.lastError).toMatchObject({ code: 'unlicensed', permanent: true, version: group.version });
  expect(await h.store.pending()).toEqual([]);
});

test('unlicensed: a group deleted before it ever reached Coder is simply done', async () => {
  h.sim.setOptions({ groupsLicensed: false });
  const groups = await h.groupsAfterLicenceCheck();
  const group = await h.addGroup('Never Applied', []);
  await groups.reconcile(group.doc.id);
  await h.store.deleteGroup(group.doc.id);
  expect((await groups.reconcile(group.doc.id)).outcome).toBe('unchanged');
  expect(await h.groupSync(group.doc.id)).toBeNull();
  expect(await h.store.pending()).toEqual([]);
});

test('an adopted group keeps the members the bridge does not manage, and does not try again to remove them', async () => {
  const a = await provisionedUser('lou');
  const stranger = h.sim.direct.createUser({ username: 'stranger', email: 'stranger@example.com', roles: ['template-admin'] });
  const existing = h.sim.direct.createGroup({ name: 'Ops' });
  h.sim.direct.addGroupMember(existing.id, stranger.id);
  const group = await h.addGroup('Ops', [a.id]);
  const groups = h.groupsAdopting('Ops');
  await groups.reconcile(group.doc.id);
  expect(simMembers(existing.id)).toEqual([a.coderId, stranger.id].sort());
  expect(await h.store.appliedMemberCoderIds(group.doc.id)).toEqual([a.coderId]);

  await h.store.changeMembers(group.doc.id, { remove: [a.id] });
  expect(await counting(() => groups.reconcile(group.doc.id))).toEqual({ 'PATCH /api/v2/groups/{group}': 1 });
  expect(simMembers(existing.id)).toEqual([stranger.id]);
  expect(await counting(() => groups.reconcile(group.doc.id, { force: true }))).toEqual({});
});

test('a member whose Coder account was deleted outside the bridge joins again under its new Coder id', async () => {
  const [a, b] = [await provisionedUser('mia'), await provisionedUser('ned')];
  const group = await h.addGroup('Rebuilt', [a.id, b.id]);
  await h.groups.reconcile(group.doc.id);
  const coderId = (await h.groupSync(group.doc.id))!.applied!.coderId;

  h.sim.direct.deleteUser(a.coderId);
  // What a resync records when Coder lost the user: no applied state, so the next reconcile creates it again.
  const { applied: _gone, ...rest } = (await h.userSync(a.id))!;
  await h.store.setSync('user', a.id, rest);
  h.queue.take();
  await h.users.reconcile(a.id);
  const recreated = (await h.userSync(a.id))!.applied!.coderId;
  expect(recreated).not.toBe(a.coderId);
  expect(h.queue.take()).toEqual([{ kind: 'group', id: group.doc.id }]);

  await h.groups.reconcile(group.doc.id);
  expect(simMembers(coderId)).toEqual([recreated, b.coderId].sort());
  expect((await h.store.appliedMemberCoderIds(group.doc.id)).sort()).toEqual([recreated, b.coderId].sort());
  expect(await h.redis.hlen(h.keys.memberChanges(group.doc.id))).toBe(0);
  expect(await counting(() => h.groups.reconcile(group.doc.id))).toEqual({});
});

test("a create whose answer was lost is the bridge's own group on retry, not a conflict", async () => {
  const a = await provisionedUser('gus');
  const group = await h.addGroup('Lost Answer', [a.id]);
  // The simulator applies the POST, then drops the connection: the bridge never learns the group's id.
  const failures = [0, 0.9, 0.1];
  h.sim.setOptions({ writeFailureRate: 1, random: () => failures.shift() ?? 1 });
  await expect(h.groups.reconcile(group.doc.id)).rejects.toThrow();
  h.sim.setOptions({ writeFailureRate: 0 });
  const made = h.sim.groups().find((g) => g.name === 'Lost-Answer')!;
  expect(made.members.size).toBe(0);

  // The retry meets a 409: the empty group its own unanswered create made is taken, not reported as a conflict.
  await h.groups.reconcile(group.doc.id);
  const sync = await h.groupSync(group.doc.id);
  expect(sync).toMatchObject({ applied: { coderId: made.id } });
  expect(sync!.lastError).toBeUndefined();
  expect(simMembers(made.id)).toEqual([a.coderId]);
  expect(h.sim.groups().filter((g) => g.name.startsWith('Lost-Answer'))).toHaveLength(1);
});

test('with a policy matching on groups, deleting a group whose members were recorded whole re-queues its users', async () => {
  const [a, b] = [await provisionedUser('gus'), await provisionedUser('hal')];
  const policy = new AccessPolicyHolder(accessPolicySchema.parse({ version: 1, rules: [{ match: { groups: ['Auditors'] }, grants: { siteRoles: ['auditor'] } }] }), 'coder');
  const access = { policy, orgs: new OrgDirectory(h.coder, await h.coder.organization(h.ctx.orgId)) };
  const groups = new GroupReconciler({ store: h.store, claims: h.claims, queue: h.queue, coder: h.coder, ctx: h.ctx, groupsLicensed: true, adoption: { tokenUserId: async () => h.sim.ownerId, groups: parseAdoptGroups(undefined) }, access });
  const group = await h.addGroup('Auditors', [a.id, b.id]);
  await groups.reconcile(group.doc.id);
  // As a resync (or an earlier version) records it: Coder's member ids whole, no applied-members hash.
  const sync = (await h.groupSync(group.doc.id))!;
  const { membersTracked: _tracked, ...applied } = sync.applied!;
  await h.store.setSync('group', group.doc.id, { ...sync, applied: { ...applied, memberCoderIds: [a.coderId, b.coderId] } });
  await h.store.replaceAppliedMembers(group.doc.id, []);
  await h.store.deleteGroup(group.doc.id);
  h.queue.take();
  await groups.reconcile(group.doc.id);
  expect(h.queue.take().filter((item) => item.kind === 'user').map((item) => item.id).sort()).toEqual([a.id, b.id].sort());
});

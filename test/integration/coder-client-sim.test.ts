import { startCoderSim, type CoderSim } from '../coder-sim';
import { CoderClient } from '../../src/coder/client';
import { CoderApiError } from '../../src/coder/errors';
import type { User } from '../../src/coder/types';

/** The client against the Coder simulator: the calls the reconciler makes, end to end over HTTP. */
let sim: CoderSim;
let client: CoderClient;

beforeAll(async () => {
  sim = await startCoderSim();
  client = new CoderClient({ url: sim.url, token: sim.token, timeoutMs: 5_000 });
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

async function createUser(username: string, email = `${username}@example.com`): Promise<User> {
  return client.createUser({ username, email, name: `Name ${username}`, login_type: 'oidc', organization_ids: [sim.defaultOrgId] });
}

test('identity and deployment reads', async () => {
  expect((await client.me()).id).toBe(sim.ownerId);
  expect(await client.buildInfo()).toHaveProperty('version');
  expect((await client.entitlements()).features).toHaveProperty('template_rbac');
  const orgs = await client.organizations();
  expect(orgs.find((o) => o.is_default)?.id).toBe(sim.defaultOrgId);
  expect((await client.organization(sim.defaultOrgId)).id).toBe(sim.defaultOrgId);
});

test('user lifecycle: create, get, list, profile, suspend, activate, delete', async () => {
  const created = await createUser('alice-sim', 'Alice.Sim@Example.com');
  expect(created).toMatchObject({ username: 'alice-sim', status: 'dormant', organization_ids: [sim.defaultOrgId] });

  expect((await client.user(created.id))?.username).toBe('alice-sim');
  expect((await client.user('ALICE-SIM'))?.id).toBe(created.id);
  expect(await client.user('nobody-here')).toBeNull();

  expect((await client.findUsersByEmail('alice.sim@example.com')).map((u) => u.id)).toEqual([created.id]);
  expect(await client.findUsersByEmail('ice.sim@example.com')).toEqual([]);

  const duplicate = await createUser('alice-sim', 'other@example.com').catch((err: unknown) => err);
  expect(duplicate).toBeInstanceOf(CoderApiError);
  expect(duplicate).toMatchObject({ status: 409, message: 'User already exists.' });

  const renamed = await client.updateProfile(created.id, { username: 'alice-renamed', name: 'Alice Renamed' });
  expect(renamed).toMatchObject({ username: 'alice-renamed', name: 'Alice Renamed' });

  expect((await client.suspendUser(created.id)).status).toBe('suspended');
  expect((await client.activateUser(created.id)).status).toBe('active');

  await client.deleteUser(created.id);
  expect(await client.findUsersByEmail('alice.sim@example.com')).toEqual([]);
  expect(sim.users().some((u) => u.id === created.id && !u.deleted)).toBe(false);
});

test('listUsers and iterateUsers page through every user in username order', async () => {
  const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
  for (const name of names) await createUser(name);

  const page = await client.listUsers({ q: 'page-', limit: 2 });
  expect(page.users.map((u) => u.username)).toEqual(['page-a', 'page-b']);
  expect(page.count).toBe(names.length);

  const all: string[] = [];
  for await (const user of client.iterateUsers(2)) all.push(user.username);
  expect(all.filter((n) => n.startsWith('page-'))).toEqual(names);
  expect(all).toEqual([...all].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  expect(new Set(all).size).toBe(sim.users().filter((u) => !u.deleted).length);
});

test('organization membership: add, add again, list, remove', async () => {
  const orgId = sim.direct.createOrganization('second-org');
  const user = await createUser('org-bob');

  expect(await client.addOrgMember(orgId, user.id)).toMatchObject({ alreadyMember: false, member: { user_id: user.id } });
  expect(await client.addOrgMember(orgId, user.id)).toEqual({ alreadyMember: true });
  expect((await client.orgMembers(orgId, 1)).map((m) => m.user_id)).toContain(user.id);

  await client.removeOrgMember(orgId, user.id);
  expect(sim.orgMembers(orgId)).not.toContain(user.id);
});

test('groups: create, find, patch members, rename, delete', async () => {
  const carol = await createUser('grp-carol');
  const dave = await createUser('grp-dave');

  const group = await client.createGroup(sim.defaultOrgId, { name: 'engineering', display_name: 'Engineering' });
  expect(group).toMatchObject({ name: 'engineering', display_name: 'Engineering', members: [], source: 'user' });
  expect((await client.groupSummaryByName(sim.defaultOrgId, 'engineering'))?.id).toBe(group.id);
  expect(await client.groupSummaryByName(sim.defaultOrgId, 'no-such-group')).toBeNull();
  expect((await client.groups(sim.defaultOrgId)).map((g) => g.name)).toEqual(expect.arrayContaining(['Everyone', 'engineering']));

  await client.patchGroup(group.id, { add_users: [carol.id, dave.id] });
  expect((await client.groupSummary(group.id))?.memberIds.sort()).toEqual([carol.id, dave.id].sort());

  const twice = await client.patchGroup(group.id, { add_users: [carol.id] }).catch((err: unknown) => err);
  expect(twice).toMatchObject({ status: 400, message: 'Cannot add the same user to a group twice!' });

  await client.patchGroup(group.id, { remove_users: [dave.id], name: 'eng', display_name: 'Eng' });
  expect(await client.groupSummary(group.id)).toEqual({
    id: group.id,
    name: 'eng',
    display_name: 'Eng',
    organization_id: sim.defaultOrgId,
    avatar_url: '',
    quota_allowance: 0,
    memberIds: [carol.id],
  });

  await client.deleteGroup(group.id);
  expect(await client.group(group.id)).toBeNull();
  expect(await client.groupSummary(group.id)).toBeNull();
});

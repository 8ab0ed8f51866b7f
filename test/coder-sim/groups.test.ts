/** Groups of the Coder simulator (enterprise/coderd/groups.go behaviour), through real HTTP. */
import { startCoderSim, type CoderSim } from './index';
import { api, createUser } from './helpers';

let sim: CoderSim;
beforeAll(async () => {
  sim = await startCoderSim();
});
afterAll(async () => {
  await sim.close();
});

const vfail = (tag: string, value: string) => `Validation failed for tag "${tag}" with value: "${value}"`;
const mkGroup = (name: string, extra: Record<string, unknown> = {}) =>
  api(sim, 'POST', `/organizations/${sim.defaultOrgId}/groups`, { name, ...extra });

describe('POST /organizations/{org}/groups', () => {
  test('201 Group shape', async () => {
    const r = await mkGroup('shape-grp', { display_name: 'Shape Group', quota_allowance: 3 });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      name: 'shape-grp',
      display_name: 'Shape Group',
      organization_id: sim.defaultOrgId,
      organization_name: 'coder',
      members: [],
      total_member_count: 0,
      source: 'user',
      avatar_url: '',
      quota_allowance: 3,
    });
    expect(sim.groups().map((g) => g.name)).toContain('shape-grp');
  });

  test('name rules: required, <=36, regex; display_name rules', async () => {
    const missing = await mkGroup('');
    expect(missing.body).toEqual({ message: 'Validation failed.', validations: [{ field: 'name', detail: vfail('required', '') }] });
    const uuidLike = 'a'.repeat(36);
    expect((await mkGroup(uuidLike)).status).toBe(201);
    for (const bad of ['b'.repeat(37), 'has space', 'under_score', 'new']) {
      const r = await mkGroup(bad);
      expect(r.body.validations).toEqual([{ field: 'name', detail: vfail('group_name', bad) }]);
    }
    for (const bad of [' lead', 'trail ', 'x'.repeat(65)]) {
      const r = await mkGroup('dn-grp', { display_name: bad });
      expect(r.status).toBe(400);
      expect(r.body.validations).toEqual([{ field: 'display_name', detail: vfail('group_display_name', bad) }]);
    }
    expect((await mkGroup('dn-ok', { display_name: 'Has Inner Spaces' })).status).toBe(201);
  });

  test('Everyone reserved (400); duplicate 409 is case-sensitive and per org', async () => {
    const ev = await mkGroup('Everyone');
    expect(ev.status).toBe(400);
    expect(ev.body).toEqual({ message: 'Invalid group name.', validations: [{ field: 'name', detail: '"Everyone" is a reserved group name' }] });
    expect((await mkGroup('dup-grp')).status).toBe(201);
    const dup = await mkGroup('dup-grp');
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ message: 'A group named "dup-grp" already exists.', validations: [{ field: 'name', detail: 'Group names must be unique' }] });
    expect((await mkGroup('DUP-grp')).status).toBe(201);
    const org2 = sim.direct.createOrganization('grp-org2');
    expect((await api(sim, 'POST', `/organizations/${org2}/groups`, { name: 'dup-grp' })).status).toBe(201);
  });
});

describe('reading groups', () => {
  test('org list includes Everyone (id == org id, members == org members); by name is case-sensitive', async () => {
    const u = await createUser(sim, 'read-user');
    const list = await api(sim, 'GET', `/organizations/${sim.defaultOrgId}/groups`);
    const everyone = list.body.find((g: { name: string }) => g.name === 'Everyone');
    expect(everyone.id).toBe(sim.defaultOrgId);
    expect(everyone.members.map((m: { id: string }) => m.id).sort()).toEqual([...sim.orgMembers()].sort());
    expect(everyone.members.map((m: { id: string }) => m.id)).toContain(u.id);
    expect(everyone.total_member_count).toBe(sim.orgMembers().length);
    expect(sim.groups().some((g) => g.name === 'Everyone')).toBe(false);

    await mkGroup('Case-Grp');
    expect((await api(sim, 'GET', `/organizations/${sim.defaultOrgId}/groups/Case-Grp`)).status).toBe(200);
    const lower = await api(sim, 'GET', `/organizations/${sim.defaultOrgId}/groups/case-grp`);
    expect(lower.status).toBe(404);
    expect(lower.body).toEqual({ message: 'Resource not found or you do not have access to this resource' });
    expect((await api(sim, 'GET', `/organizations/coder/groups/Everyone`)).body.id).toBe(sim.defaultOrgId);
  });

  test('GET /groups/{group}: bad UUID 400, unknown 404', async () => {
    const bad = await api(sim, 'GET', '/groups/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ message: 'Invalid UUID "not-a-uuid".', detail: 'invalid UUID length: 10' });
    const unknown = await api(sim, 'GET', '/groups/11111111-2222-3333-4444-555555555555');
    expect(unknown.status).toBe(404);
    const everyone = await api(sim, 'GET', `/groups/${sim.defaultOrgId}`);
    expect(everyone.body.name).toBe('Everyone');
  });

  test('GET /groups filters: organization, has_member, group_ids, bad params', async () => {
    const u = await createUser(sim, 'filter-user');
    const g1 = (await mkGroup('filter-a')).body;
    const g2 = (await mkGroup('filter-b')).body;
    await api(sim, 'PATCH', `/groups/${g1.id}`, { add_users: [u.id] });
    const byMember = await api(sim, 'GET', '/groups?has_member=filter-user');
    expect(byMember.body.map((g: { name: string }) => g.name).sort()).toEqual(['Everyone', 'filter-a']);
    const byIds = await api(sim, 'GET', `/groups?group_ids=${g1.id},${g2.id}&organization=coder`);
    expect(byIds.body.map((g: { id: string }) => g.id)).toEqual([g1.id, g2.id]);
    const badOrg = await api(sim, 'GET', '/groups?organization=nowhere');
    expect(badOrg.status).toBe(400);
    expect(badOrg.body.message).toBe('Query parameters have invalid values.');
    expect(badOrg.body.validations[0].detail).toContain('organization "nowhere" not found');
    const extra = await api(sim, 'GET', '/groups?foo=1');
    expect(extra.body.validations).toEqual([{ field: 'foo', detail: 'Query param "foo" is not a valid query param' }]);
  });
});

describe('PATCH /groups/{group}', () => {
  test('adds and removes members, returns full members and count', async () => {
    const a = await createUser(sim, 'patch-a');
    const b = await createUser(sim, 'patch-b');
    const g = (await mkGroup('patch-grp')).body;
    const r = await api(sim, 'PATCH', `/groups/${g.id}`, { add_users: [a.id, b.id] });
    expect(r.status).toBe(200);
    expect(r.body.total_member_count).toBe(2);
    expect(r.body.members[0]).toMatchObject({ id: a.id, username: 'patch-a', email: 'patch-a@example.com', status: 'dormant' });
    const rm = await api(sim, 'PATCH', `/groups/${g.id}`, { remove_users: [b.id] });
    expect(rm.body.members.map((m: { id: string }) => m.id)).toEqual([a.id]);
    // removing a non-member org member is a no-op
    const noop = await api(sim, 'PATCH', `/groups/${g.id}`, { remove_users: [b.id] });
    expect(noop.status).toBe(200);
    expect(noop.body.total_member_count).toBe(1);
    expect(sim.hasGroupMember(g.id, a.id)).toBe(true);
    expect(sim.hasGroupMember(g.id, b.id)).toBe(false);
    expect(sim.hasGroupMember('00000000-0000-4000-8000-000000000009', a.id)).toBe(false);
  });

  test('duplicate add (already member or listed twice) → 400 and the whole PATCH is rolled back', async () => {
    const a = await createUser(sim, 'dup-a');
    const b = await createUser(sim, 'dup-b');
    const c = await createUser(sim, 'dup-c');
    const g = (await mkGroup('rollback-grp', { display_name: 'Before' })).body;
    await api(sim, 'PATCH', `/groups/${g.id}`, { add_users: [a.id, c.id] });

    const r = await api(sim, 'PATCH', `/groups/${g.id}`, {
      name: 'rollback-renamed',
      display_name: 'After',
      quota_allowance: 9,
      add_users: [b.id, a.id],
      remove_users: [c.id],
    });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('Cannot add the same user to a group twice!');
    expect(r.body.detail).toContain('duplicate key value violates unique constraint');
    const after = sim.groups().find((x) => x.id === g.id)!;
    expect(after.name).toBe('rollback-grp');
    expect(after.display_name).toBe('Before');
    expect(after.quota_allowance).toBe(0);
    expect([...after.members].sort()).toEqual([a.id, c.id].sort());

    const twice = await api(sim, 'PATCH', `/groups/${g.id}`, { add_users: [b.id, b.id] });
    expect(twice.status).toBe(400);
    expect(twice.body.message).toBe('Cannot add the same user to a group twice!');
    expect(sim.groups().find((x) => x.id === g.id)!.members.has(b.id)).toBe(false);
  });

  test('ids must be UUIDs of org members; message uses the group name; checked in list order', async () => {
    const g = (await mkGroup('needs-org')).body;
    const byName = await api(sim, 'PATCH', `/groups/${g.id}`, { add_users: ['admin'] });
    expect(byName.status).toBe(400);
    expect(byName.body).toEqual({ message: 'ID "admin" must be a valid user UUID.' });
    const org2 = sim.direct.createOrganization('other-org');
    const outsider = sim.direct.createUser({ username: 'outsider', email: 'outsider@example.com', orgIds: [org2] });
    const r = await api(sim, 'PATCH', `/groups/${g.id}`, { add_users: [outsider.id, 'not-a-uuid'] });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: 'User must be a member of organization "needs-org"' });
    const unknown = await api(sim, 'PATCH', `/groups/${g.id}`, { remove_users: ['11111111-2222-3333-4444-555555555555'] });
    expect(unknown.body).toEqual({ message: 'User must be a member of organization "needs-org"' });
    // after joining the org the add succeeds
    expect((await api(sim, 'POST', `/organizations/${sim.defaultOrgId}/members/${outsider.id}`)).status).toBe(200);
    expect((await api(sim, 'PATCH', `/groups/${g.id}`, { add_users: [outsider.id] })).status).toBe(200);
  });

  test('rename: 409 on an existing name, reserved Everyone, same name is no rename, validation', async () => {
    const g = (await mkGroup('rename-src')).body;
    await mkGroup('rename-taken');
    const clash = await api(sim, 'PATCH', `/groups/${g.id}`, { name: 'rename-taken' });
    expect(clash.status).toBe(409);
    expect(clash.body).toEqual({ message: 'A group with name "rename-taken" already exists.' });
    const reserved = await api(sim, 'PATCH', `/groups/${g.id}`, { name: 'Everyone' });
    expect(reserved.body).toEqual({ message: '"Everyone" is a reserved group name!' });
    expect((await api(sim, 'PATCH', `/groups/${g.id}`, { name: 'rename-src' })).status).toBe(200);
    const invalid = await api(sim, 'PATCH', `/groups/${g.id}`, { name: 'bad name' });
    expect(invalid.body.validations).toEqual([{ field: 'name', detail: vfail('group_name', 'bad name') }]);
    const ok = await api(sim, 'PATCH', `/groups/${g.id}`, { name: 'rename-dst', display_name: '' });
    expect(ok.body).toMatchObject({ name: 'rename-dst', display_name: '' });
  });

  test('Everyone protections', async () => {
    const ev = `/groups/${sim.defaultOrgId}`;
    expect((await api(sim, 'PATCH', ev, { name: 'All' })).body).toEqual({ message: 'Cannot rename the "Everyone" group!' });
    expect((await api(sim, 'PATCH', ev, { display_name: 'All' })).body).toEqual({
      message: 'Cannot update the Display Name for the "Everyone" group!',
    });
    const add = await api(sim, 'PATCH', ev, { add_users: [sim.ownerId] });
    expect(add.status).toBe(403);
    expect(add.body).toEqual({ message: 'Cannot add or remove users from the "Everyone" group!' });
    const del = await api(sim, 'DELETE', ev);
    expect(del.status).toBe(400);
    expect(del.body).toEqual({ message: '"Everyone" is a reserved group and cannot be deleted!' });
  });
});

describe('DELETE /groups/{group}', () => {
  test('200 with message; then 404', async () => {
    const g = (await mkGroup('delete-me')).body;
    const r = await api(sim, 'DELETE', `/groups/${g.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: 'Successfully deleted group!' });
    expect((await api(sim, 'GET', `/groups/${g.id}`)).status).toBe(404);
    expect((await mkGroup('delete-me')).status).toBe(201);
  });
});

describe('licensing', () => {
  test('groupsLicensed=false: 403 Premium message on group routes; entitlements reflect it', async () => {
    sim.setOptions({ groupsLicensed: false });
    try {
      const msg = { message: 'Template RBAC is a Premium feature. Contact sales!' };
      const list = await api(sim, 'GET', `/organizations/${sim.defaultOrgId}/groups`);
      expect(list.status).toBe(403);
      expect(list.body).toEqual(msg);
      expect((await mkGroup('unlicensed')).body).toEqual(msg);
      // /groups/* checks the feature before the API key; /organizations/{org}/groups* after it
      expect((await api(sim, 'GET', '/groups', undefined, { token: null })).status).toBe(403);
      expect((await api(sim, 'GET', `/organizations/${sim.defaultOrgId}/groups`, undefined, { token: null })).status).toBe(401);
      const ent = await api(sim, 'GET', '/entitlements');
      expect(ent.body.features.template_rbac).toEqual({ entitlement: 'not_entitled', enabled: false });
      expect(sim.groups().some((g) => g.name === 'unlicensed')).toBe(false);
    } finally {
      sim.setOptions({ groupsLicensed: true });
    }
    const ent = await api(sim, 'GET', '/entitlements');
    expect(ent.body.features.template_rbac).toEqual({ entitlement: 'entitled', enabled: true });
  });
});

/** Users, organizations and members of the Coder simulator, through real HTTP. */
import { startCoderSim, type CoderSim } from './index';
import { api, createUser, uname } from './helpers';

let sim: CoderSim;
beforeAll(async () => {
  sim = await startCoderSim();
});
afterAll(async () => {
  await sim.close();
});

const NIL = '00000000-0000-0000-0000-000000000000';
const vfail = (tag: string, value: string) => `Validation failed for tag "${tag}" with value: "${value}"`;

describe('POST /users', () => {
  const base = () => ({ email: 'new@example.com', username: 'newbie', login_type: 'oidc', organization_ids: [sim.defaultOrgId] });

  test('creates a dormant user, 201, User shape, org membership', async () => {
    const r = await api(sim, 'POST', '/users', { ...base(), username: 'Create-Me', email: 'create.me@example.com', name: 'Create Me' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      username: 'Create-Me',
      email: 'create.me@example.com',
      name: 'Create Me',
      status: 'dormant',
      login_type: 'oidc',
      organization_ids: [sim.defaultOrgId],
      roles: [],
      last_seen_at: '0001-01-01T00:00:00Z',
      avatar_url: '',
    });
    expect(r.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sim.orgMembers()).toContain(r.body.id);
    expect(r.raw.endsWith('}\n')).toBe(true);
  });

  test('user_status is honoured', async () => {
    const r = await api(sim, 'POST', '/users', { ...base(), username: 'starts-active', email: 'sa@example.com', user_status: 'active' });
    expect(r.body.status).toBe('active');
  });

  test('tag validation: required fields, one entry per failing field in struct order', async () => {
    const r = await api(sim, 'POST', '/users', { organization_ids: [sim.defaultOrgId] });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      message: 'Validation failed.',
      validations: [
        { field: 'email', detail: vfail('required', '') },
        { field: 'username', detail: vfail('required', '') },
      ],
    });
  });

  test.each([
    ['a_b'],
    ['-lead'],
    ['trail-'],
    ['dou--ble'],
    ['new'],
    ['create'],
    ['a'.repeat(33)],
    ['dot.ted'],
  ])('username %s is rejected with tag "username"', async (username) => {
    const r = await api(sim, 'POST', '/users', { ...base(), username });
    expect(r.status).toBe(400);
    expect(r.body.validations).toEqual([{ field: 'username', detail: vfail('username', username) }]);
  });

  test('32-character username is accepted', async () => {
    const r = await api(sim, 'POST', '/users', { ...base(), username: 'b'.repeat(32), email: 'b32@example.com' });
    expect(r.status).toBe(201);
  });

  test.each([['not-an-email'], ['a@b'], ['@example.com'], ['a b@example.com']])('email %s is rejected', async (email) => {
    const r = await api(sim, 'POST', '/users', { ...base(), email });
    expect(r.status).toBe(400);
    expect(r.body.validations).toEqual([{ field: 'email', detail: vfail('email', email) }]);
  });

  test('real name: leading/trailing whitespace and >128 rejected; 128 accepted', async () => {
    for (const name of [' Bob', 'Bob ', 'x'.repeat(129)]) {
      const r = await api(sim, 'POST', '/users', { ...base(), name });
      expect(r.body.validations).toEqual([{ field: 'name', detail: vfail('user_real_name', name) }]);
    }
    const ok = await api(sim, 'POST', '/users', { ...base(), username: 'long-name', email: 'ln@example.com', name: 'x'.repeat(128) });
    expect(ok.status).toBe(201);
  });

  test('invalid JSON and wrong types → "Request body must be valid JSON."', async () => {
    const bad = await api(sim, 'POST', '/users', undefined, { raw: '{"username":', headers: { 'Content-Type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('Request body must be valid JSON.');
    const typed = await api(sim, 'POST', '/users', { ...base(), username: 42 });
    expect(typed.body).toEqual({
      message: 'Request body must be valid JSON.',
      detail: 'json: cannot unmarshal number into Go struct field CreateUserRequestWithOrgs.username of type string',
    });
    const badOrg = await api(sim, 'POST', '/users', { ...base(), organization_ids: ['nope'] });
    expect(badOrg.body).toEqual({ message: 'Request body must be valid JSON.', detail: 'invalid UUID length: 4' });
  });

  test('password with non-password login type → 400', async () => {
    const r = await api(sim, 'POST', '/users', { ...base(), password: 'SomeSecurePassword!1' });
    expect(r.body).toEqual({ message: 'Password cannot be set for non-password ("oidc") authentication.' });
  });

  test('empty organization_ids → 400 with detail and validations', async () => {
    const r = await api(sim, 'POST', '/users', { ...base(), organization_ids: [] });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      message:
        'No organization specified to place the user as a member of. It is required to specify at least one organization id to place the user in.',
      detail: "required at least 1 value for the array 'organization_ids'",
      validations: [{ field: 'organization_ids', detail: 'Missing values, this cannot be empty' }],
    });
  });

  test('Nil UUID means the default org; legacy organization_id is appended; unknown org → 404', async () => {
    const nil = await api(sim, 'POST', '/users', { ...base(), username: 'nil-org', email: 'nil@example.com', organization_ids: [NIL] });
    expect(nil.status).toBe(201);
    expect(nil.body.organization_ids).toEqual([sim.defaultOrgId]);
    const legacy = await api(sim, 'POST', '/users', {
      email: 'legacy@example.com',
      username: 'legacy-org',
      login_type: 'none',
      organization_id: sim.defaultOrgId,
    });
    expect(legacy.status).toBe(201);
    expect(legacy.body.organization_ids).toEqual([sim.defaultOrgId]);
    const missing = '11111111-2222-3333-4444-555555555555';
    const r = await api(sim, 'POST', '/users', { ...base(), organization_ids: [missing] });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: `Organization does not exist with the provided id "${missing}".` });
  });

  test('409 "User already exists." on username or email, case-insensitive; checked before unknown org', async () => {
    await createUser(sim, 'Dup-User');
    const byName = await api(sim, 'POST', '/users', { ...base(), username: 'dup-USER', email: 'other-dup@example.com' });
    expect(byName.status).toBe(409);
    expect(byName.body).toEqual({ message: 'User already exists.' });
    const byEmail = await api(sim, 'POST', '/users', {
      ...base(),
      username: 'fresh-dup',
      email: 'DUP-user@EXAMPLE.com',
      organization_ids: ['11111111-2222-3333-4444-555555555555'],
    });
    expect(byEmail.status).toBe(409);
  });

  test('login types: password strength, unsupported types', async () => {
    const weak = await api(sim, 'POST', '/users', { ...base(), login_type: 'password', password: 'password' });
    expect(weak.status).toBe(400);
    expect(weak.body.message).toBe('Password not strong enough!');
    expect(weak.body.validations[0].field).toBe('password');
    const empty = await api(sim, 'POST', '/users', { ...base(), login_type: '' });
    expect(empty.body.message).toBe('Password not strong enough!');
    const strong = await api(sim, 'POST', '/users', {
      ...base(),
      username: 'pw-user',
      email: 'pw@example.com',
      login_type: 'password',
      password: 'SomeSecurePassword!',
    });
    expect(strong.status).toBe(201);
    expect(strong.body.login_type).toBe('password');
    const token = await api(sim, 'POST', '/users', { ...base(), login_type: 'token' });
    expect(token.body).toEqual({ message: 'Unsupported login type "token" for manually creating new users.' });
  });

  test('non-owner cannot create users (403)', async () => {
    const member = await createUser(sim, uname('plain-member'));
    const tok = sim.direct.createToken(member.id);
    const r = await api(sim, 'POST', '/users', { ...base(), username: 'by-member', email: 'bm@example.com' }, { token: tok });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ message: 'You are not authorized to create users.' });
  });
});

describe('GET /users/{user}', () => {
  test('by id, by username case-insensitively, and "me"', async () => {
    const u = await createUser(sim, 'Lookup-Me');
    expect((await api(sim, 'GET', `/users/${u.id}`)).body.username).toBe('Lookup-Me');
    expect((await api(sim, 'GET', '/users/LOOKUP-me')).body.id).toBe(u.id);
    expect((await api(sim, 'GET', '/users/me')).body.id).toBe(sim.ownerId);
  });

  test('unknown user → 400 (not 404) with exact body', async () => {
    const r = await api(sim, 'GET', '/users/no-such-person');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: '"user" must be an existing uuid or username.', detail: 'queried user="no-such-person"' });
    const byId = await api(sim, 'GET', '/users/11111111-2222-3333-4444-555555555555');
    expect(byId.status).toBe(400);
  });

  test('roles', async () => {
    const r = await api(sim, 'GET', '/users/me/roles');
    expect(r.body.roles).toEqual(['owner']);
    expect(r.body.organization_roles).toHaveProperty(sim.defaultOrgId);
  });
});

describe('GET /users (list)', () => {
  let ids: Record<string, string>;
  beforeAll(async () => {
    ids = {};
    for (const n of ['Zeta-list', 'alpha-list', 'Mike-list', 'bravo-list']) ids[n] = (await createUser(sim, n)).id;
    await api(sim, 'PUT', `/users/${ids['bravo-list']}/status/suspend`);
  });

  test('ordered by lower(username), count = total, limit/offset', async () => {
    const r = await api(sim, 'GET', '/users?q=-list');
    expect(r.body.users.map((u: { username: string }) => u.username)).toEqual(['alpha-list', 'bravo-list', 'Mike-list', 'Zeta-list']);
    expect(r.body.count).toBe(4);
    const page = await api(sim, 'GET', '/users?q=-list&limit=2&offset=1');
    expect(page.body.users.map((u: { username: string }) => u.username)).toEqual(['bravo-list', 'Mike-list']);
    expect(page.body.count).toBe(4);
    const zero = await api(sim, 'GET', '/users?q=-list&limit=0');
    expect(zero.body.users).toHaveLength(4);
  });

  test('after_id cursor is a username cursor; count includes it', async () => {
    const r = await api(sim, 'GET', `/users?q=-list&after_id=${ids['bravo-list']}&limit=1`);
    expect(r.body.users.map((u: { username: string }) => u.username)).toEqual(['Mike-list']);
    expect(r.body.count).toBe(2);
    const unknown = await api(sim, 'GET', '/users?after_id=11111111-2222-3333-4444-555555555555');
    expect(unknown.body).toEqual({ users: [], count: 0 });
  });

  test('q is lower-cased; bare term matches email or username substring', async () => {
    const r = await api(sim, 'GET', '/users?q=ZETA-LIST%40EXAMPLE');
    expect(r.body.users.map((u: { id: string }) => u.id)).toEqual([ids['Zeta-list']]);
    const none = await api(sim, 'GET', '/users?q=zzz-nothing');
    expect(none.body).toEqual({ users: [], count: 0 });
  });

  test('status, role and login_type filters', async () => {
    const s = await api(sim, 'GET', '/users?q=' + encodeURIComponent('-list status:suspended'));
    expect(s.body.users.map((u: { username: string }) => u.username)).toEqual(['bravo-list']);
    const multi = await api(sim, 'GET', '/users?q=' + encodeURIComponent('-list status:active,dormant'));
    expect(multi.body.count).toBe(3);
    const owners = await api(sim, 'GET', '/users?q=role:owner');
    expect(owners.body.users.map((u: { id: string }) => u.id)).toEqual([sim.ownerId]);
    const pw = await api(sim, 'GET', '/users?q=' + encodeURIComponent('-list login_type:password'));
    expect(pw.body.count).toBe(0);
  });

  test('q errors: unknown key, bad enum, colons', async () => {
    const unknown = await api(sim, 'GET', '/users?q=' + encodeURIComponent('username:alice'));
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      message: 'Invalid user search query.',
      validations: [{ field: 'username', detail: 'Query param "username" is not a valid query param' }],
    });
    const email = await api(sim, 'GET', '/users?q=' + encodeURIComponent('Email:a@b.c'));
    expect(email.body.validations).toEqual([{ field: 'email', detail: 'Query param "email" is not a valid query param' }]);
    const bad = await api(sim, 'GET', '/users?q=status:active,gone');
    expect(bad.body.validations).toEqual([{ field: 'status', detail: 'Query param "status" has invalid values: gone' }]);
    const colon = await api(sim, 'GET', '/users?q=status:');
    expect(colon.body.validations).toEqual([{ field: 'q', detail: 'Query element "status:" cannot start or end with \':\'' }]);
    const two = await api(sim, 'GET', '/users?q=a:b:c');
    expect(two.body.validations).toEqual([{ field: 'q', detail: 'Query element "a:b:c" can only contain 1 \':\'' }]);
  });

  test('pagination errors', async () => {
    const r = await api(sim, 'GET', '/users?limit=-1&after_id=xyz');
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('Query parameters have invalid values.');
    expect(r.body.validations).toEqual([
      { field: 'after_id', detail: 'Query param "after_id" must be a valid uuid' },
      { field: 'limit', detail: 'Query param "limit" must be a valid 32-bit positive integer: value is negative' },
    ]);
    const syntax = await api(sim, 'GET', '/users?offset=abc');
    expect(syntax.body.validations[0].detail).toBe(
      'Query param "offset" must be a valid 32-bit positive integer: strconv.ParseInt: parsing "abc": invalid syntax',
    );
  });
});

describe('PUT /users/{user}/profile', () => {
  test('renames, keeps email; username required; 409 on taken (case-insensitive)', async () => {
    const u = await createUser(sim, 'prof-user');
    await createUser(sim, 'prof-taken');
    const ok = await api(sim, 'PUT', `/users/${u.id}/profile`, { username: 'prof-renamed', name: 'Prof' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ username: 'prof-renamed', name: 'Prof', email: 'prof-user@example.com' });
    const same = await api(sim, 'PUT', `/users/${u.id}/profile`, { username: 'PROF-renamed', name: 'Prof' });
    expect(same.status).toBe(200);
    const missing = await api(sim, 'PUT', `/users/${u.id}/profile`, { name: 'No Username' });
    expect(missing.body).toEqual({ message: 'Validation failed.', validations: [{ field: 'username', detail: vfail('required', '') }] });
    const clash = await api(sim, 'PUT', `/users/${u.id}/profile`, { username: 'Prof-Taken' });
    expect(clash.status).toBe(409);
    expect(clash.body).toEqual({
      message: 'A user with this username already exists.',
      validations: [{ field: 'username', detail: 'This username is already in use.' }],
    });
    expect(sim.users().find((x) => x.id === u.id)?.username).toBe('PROF-renamed');
  });
});

describe('status', () => {
  test('suspend/activate are idempotent; activate from dormant; self and owner cannot be suspended', async () => {
    const u = await createUser(sim, 'status-user');
    for (let i = 0; i < 2; i++) {
      const r = await api(sim, 'PUT', `/users/${u.id}/status/suspend`);
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('suspended');
    }
    const a = await api(sim, 'PUT', `/users/${u.id}/status/activate`);
    expect(a.body.status).toBe('active');
    expect((await api(sim, 'PUT', `/users/${u.id}/status/activate`)).status).toBe(200);
    const self = await api(sim, 'PUT', '/users/me/status/suspend');
    expect(self.body).toEqual({ message: 'You cannot suspend yourself.' });
    const member = await createUser(sim, 'status-actor');
    const tok = sim.direct.createToken(member.id);
    const owner = await api(sim, 'PUT', `/users/${sim.ownerId}/status/suspend`, undefined, { token: tok });
    expect(owner.status).toBe(400);
    expect(owner.body).toEqual({ message: 'You cannot suspend a user with the "owner" role. You must remove the role first.' });
  });
});

describe('DELETE /users/{user}', () => {
  test('self → 403; workspaces → 417; success soft-deletes and cascades; names reusable', async () => {
    const self = await api(sim, 'DELETE', `/users/${sim.ownerId}`);
    expect(self.status).toBe(403);
    expect(self.body).toEqual({ message: 'You cannot delete yourself!' });

    const u = await createUser(sim, 'Del-User');
    const g = sim.direct.createGroup({ name: 'del-group' });
    sim.direct.addGroupMember(g.id, u.id);
    const org2 = sim.direct.createOrganization('del-org');
    expect((await api(sim, 'POST', `/organizations/${org2}/members/${u.id}`)).status).toBe(200);

    sim.direct.addWorkspace(u.id);
    const ws = await api(sim, 'DELETE', `/users/${u.id}`);
    expect(ws.status).toBe(417);
    expect(ws.body).toEqual({ message: 'You cannot delete a user that has workspaces. Delete their workspaces and try again!' });
    expect(sim.users().some((x) => x.id === u.id)).toBe(true);

    const v = await createUser(sim, 'del-user2');
    const tok = sim.direct.createToken(v.id);
    sim.direct.addGroupMember(g.id, v.id);
    const ok = await api(sim, 'DELETE', `/users/${v.id}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ message: 'User has been deleted!' });
    expect(sim.users().some((x) => x.id === v.id)).toBe(false);
    expect(sim.orgMembers()).not.toContain(v.id);
    expect(sim.groups().find((x) => x.id === g.id)?.members.has(v.id)).toBe(false);
    expect((await api(sim, 'GET', '/users/del-user2')).status).toBe(400);
    const list = await api(sim, 'GET', '/users?q=del-user2');
    expect(list.body.count).toBe(0);
    const gone = await api(sim, 'GET', '/users/me', undefined, { token: tok });
    expect(gone.status).toBe(401);
    expect(gone.body.detail).toBe('API key is invalid.');
    const again = await api(sim, 'POST', '/users', {
      username: 'DEL-USER2',
      email: 'del-user2@example.com',
      login_type: 'oidc',
      organization_ids: [sim.defaultOrgId],
    });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(v.id);
  });
});

describe('organizations and members', () => {
  test('list and get by id, name, "default"; unknown → 404', async () => {
    const list = await api(sim, 'GET', '/organizations');
    const def = list.body.find((o: { is_default: boolean }) => o.is_default);
    expect(def).toMatchObject({ id: sim.defaultOrgId, name: 'coder' });
    for (const q of [sim.defaultOrgId, 'coder', 'default']) {
      expect((await api(sim, 'GET', `/organizations/${q}`)).body.id).toBe(sim.defaultOrgId);
    }
    const missing = await api(sim, 'GET', '/organizations/11111111-2222-3333-4444-555555555555');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ message: 'Resource not found or you do not have access to this resource' });
  });

  test('add 200 then 400; list; paginated; remove 204 cascades out of groups; non-member 404; self 400', async () => {
    const org = sim.direct.createOrganization('members-org');
    const u = await createUser(sim, 'mem-user');
    const add = await api(sim, 'POST', `/organizations/${org}/members/${u.id}`);
    expect(add.status).toBe(200);
    expect(add.body).toMatchObject({ user_id: u.id, organization_id: org, roles: [] });
    const again = await api(sim, 'POST', `/organizations/${org}/members/mem-user`);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ message: 'Organization member already exists in this organization' });
    const unknownUser = await api(sim, 'POST', `/organizations/${org}/members/ghost-user`);
    expect(unknownUser.status).toBe(400);

    const g = sim.direct.createGroup({ name: 'org-grp', orgId: org });
    const patched = await api(sim, 'PATCH', `/groups/${g.id}`, { add_users: [u.id] });
    expect(patched.status).toBe(200);

    const members = await api(sim, 'GET', `/organizations/${org}/members`);
    expect(members.body.map((m: { username: string }) => m.username)).toEqual(['mem-user']);
    const paged = await api(sim, 'GET', `/organizations/${org}/paginated-members?limit=1`);
    expect(paged.body.count).toBe(1);
    expect(paged.body.members[0]).toMatchObject({ user_id: u.id, email: 'mem-user@example.com' });

    const del = await api(sim, 'DELETE', `/organizations/${org}/members/${u.id}`);
    expect(del.status).toBe(204);
    expect(del.raw).toBe('');
    expect(sim.orgMembers(org)).not.toContain(u.id);
    expect(sim.groups(org)[0].members.size).toBe(0);
    expect(sim.orgMembers()).toContain(u.id);
    const delAgain = await api(sim, 'DELETE', `/organizations/${org}/members/${u.id}`);
    expect(delAgain.status).toBe(404);
    const self = await api(sim, 'DELETE', `/organizations/${sim.defaultOrgId}/members/me`);
    expect(self.body).toEqual({ message: 'cannot remove self from an organization' });
  });
});

describe('site roles and GET /users/me', () => {
  test('GET /users/me is the token user, with its site roles', async () => {
    const owner = await api(sim, 'GET', '/users/me');
    expect(owner.status).toBe(200);
    expect(owner.body).toMatchObject({ id: sim.ownerId, username: 'admin', roles: [{ name: 'owner', display_name: 'Owner' }] });

    const plain = sim.direct.createUser({ username: 'me-plain', email: 'me.plain@example.com', loginType: 'oidc' });
    const mine = await api(sim, 'GET', '/users/me', undefined, { token: sim.direct.createToken(plain.id) });
    expect(mine.body).toMatchObject({ id: plain.id, login_type: 'oidc', roles: [] });
  });

  test('"me" without a session is 401 from the API key middleware', async () => {
    const r = await api(sim, 'GET', '/users/me', undefined, { token: null });
    expect(r.status).toBe(401);
  });

  test('site roles given to a user show on GET /users/{user}, in lists, and filter with role:', async () => {
    const admin = sim.direct.createUser({ username: 'ua-roles', email: 'ua.roles@example.com', roles: ['user-admin', 'auditor', 'custom-site'] });
    const one = await api(sim, 'GET', `/users/${admin.id}`);
    expect(one.body.roles).toEqual([
      { name: 'user-admin', display_name: 'User Admin' },
      { name: 'auditor', display_name: 'Auditor' },
      { name: 'custom-site', display_name: 'custom-site' },
    ]);
    const byRole = await api(sim, 'GET', '/users?q=role:auditor');
    expect(byRole.body.users.map((u: { id: string }) => u.id)).toEqual([admin.id]);

    sim.direct.setUserRoles(admin.id, []);
    expect((await api(sim, 'GET', `/users/${admin.id}`)).body.roles).toEqual([]);
    expect(sim.users().find((u) => u.id === admin.id)?.roles).toEqual([]);
  });
});

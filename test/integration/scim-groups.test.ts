import { randomUUID } from 'node:crypto';
import { groupBody, patchBody, startScimServer, userBody, type ScimServer } from './scim-harness';
import { GROUP_SCHEMA } from '../../src/scim/urns';

let server: ScimServer;
const userIds: string[] = [];

beforeAll(async () => {
  server = await startScimServer();
  for (let i = 0; i < 4; i++) {
    const reply = await server.call('POST', '/scim/v2/Users', { body: userBody(`member${i}@groups.test`, { displayName: `Member ${i}` }) });
    userIds.push(reply.body.id);
  }
});

afterAll(async () => {
  await server.close();
});

async function createGroup(displayName: string, members: string[] = [], extra: Record<string, unknown> = {}): Promise<string> {
  const reply = await server.call('POST', '/scim/v2/Groups', { body: groupBody(displayName, members, extra) });
  expect(reply.status).toBe(201);
  return reply.body.id;
}

async function memberIds(groupId: string): Promise<string[]> {
  const reply = await server.call('GET', `/scim/v2/Groups/${groupId}`);
  expect(reply.status).toBe(200);
  return (reply.body.members ?? []).map((m: { value: string }) => m.value).sort();
}

describe('group CRUD', () => {
  it('creates a group with members: 201, Location, members rendered, reconcile queued', async () => {
    const reply = await server.call('POST', '/scim/v2/Groups', { body: groupBody('Engineering', [userIds[0], userIds[1]]) });
    expect(reply.status).toBe(201);
    const id = reply.body.id;
    expect(reply.headers.location).toBe(`${server.origin}/scim/v2/Groups/${id}`);
    expect(reply.body.displayName).toBe('Engineering');
    expect(reply.body.members.map((m: { value: string }) => m.value).sort()).toEqual([userIds[0], userIds[1]].sort());
    expect(await server.hasQueuedJob('group', id)).toBe(true);
  });

  it('ignores member ids that could be users but are not', async () => {
    const id = await createGroup('With strangers', [userIds[0], randomUUID()]);
    expect(await memberIds(id)).toEqual([userIds[0]]);
  });

  it('refuses a member value that is no user id of this server with 400 invalidValue, and creates nothing', async () => {
    const reply = await server.call('POST', '/scim/v2/Groups', { body: { schemas: [GROUP_SCHEMA], displayName: 'Strangers only', members: [{ value: 'not-a-user' }] } });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ scimType: 'invalidValue', detail: expect.stringContaining('not-a-user') });
    const list = await server.call('GET', `/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Strangers only"')}`);
    expect(list.body.totalResults).toBe(0);
  });

  it('never shows members when excludedAttributes=members', async () => {
    const id = await createGroup('Hidden members', [userIds[2]]);
    const reply = await server.call('GET', `/scim/v2/Groups/${id}?excludedAttributes=members`);
    expect(reply.status).toBe(200);
    expect(reply.body.members).toBeUndefined();
    expect(reply.body.displayName).toBe('Hidden members');
  });

  it('lists a user\'s groups on the user', async () => {
    const id = await createGroup('Visible on user', [userIds[3]]);
    const reply = await server.call('GET', `/scim/v2/Users/${userIds[3]}`);
    expect(reply.body.groups).toEqual(expect.arrayContaining([expect.objectContaining({ value: id, display: 'Visible on user' })]));
  });

  it('replaces a group with PUT: attributes and the whole member list', async () => {
    const id = await createGroup('Before put', [userIds[0]]);
    const reply = await server.call('PUT', `/scim/v2/Groups/${id}`, { body: groupBody('After put', [userIds[1], userIds[2]], { id }) });
    expect(reply.status).toBe(200);
    expect(reply.body.displayName).toBe('After put');
    expect(await memberIds(id)).toEqual([userIds[1], userIds[2]].sort());
  });

  it('finds groups by displayName case-insensitively and by externalId', async () => {
    const id = await createGroup('Find Me Group', [], { externalId: 'grp-ext-1' });
    const byName = await server.call('GET', `/scim/v2/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "find me group"')}`);
    expect(byName.body.Resources.map((g: { id: string }) => g.id)).toEqual([id]);
    expect(byName.body.Resources[0].members).toBeUndefined();
    const byExternalId = await server.call('GET', `/scim/v2/Groups?filter=${encodeURIComponent('externalId eq "grp-ext-1"')}`);
    expect(byExternalId.body.Resources.map((g: { id: string }) => g.id)).toEqual([id]);
  });

  it('deletes a group: 204 then 404', async () => {
    const id = await createGroup('Doomed');
    await server.clearQueue();
    expect((await server.call('DELETE', `/scim/v2/Groups/${id}`)).status).toBe(204);
    expect((await server.call('GET', `/scim/v2/Groups/${id}`)).status).toBe(404);
    expect(await server.hasQueuedJob('group', id)).toBe(true);
  });

  it('deleting a user removes it from its groups and queues each group', async () => {
    const user = (await server.call('POST', '/scim/v2/Users', { body: userBody('leaving@groups.test') })).body.id;
    const group = await createGroup('Left behind', [user, userIds[0]]);
    await server.clearQueue();
    await server.call('DELETE', `/scim/v2/Users/${user}`);
    expect(await memberIds(group)).toEqual([userIds[0]]);
    expect(await server.hasQueuedJob('group', group)).toBe(true);
  });
});

describe('group PATCH', () => {
  it('adds several members in one op (Entra) and answers 204', async () => {
    const id = await createGroup('Entra adds');
    const reply = await server.call('PATCH', `/scim/v2/Groups/${id}`, {
      body: patchBody({ op: 'Add', path: 'members', value: [{ $ref: null, value: userIds[0] }, { $ref: null, value: userIds[1] }] }),
    });
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect(await memberIds(id)).toEqual([userIds[0], userIds[1]].sort());
  });

  it('removes by value array (Entra default) and by members[value eq] path (Okta, aadOptscim062020)', async () => {
    const id = await createGroup('Removals', [userIds[0], userIds[1], userIds[2]]);
    await server.call('PATCH', `/scim/v2/Groups/${id}`, { body: patchBody({ op: 'Remove', path: 'members', value: [{ value: userIds[0] }] }) });
    await server.call('PATCH', `/scim/v2/Groups/${id}`, { body: patchBody({ op: 'remove', path: `members[value eq "${userIds[1]}"]` }) });
    expect(await memberIds(id)).toEqual([userIds[2]]);
  });

  it('handles Okta\'s combined remove + add in one request', async () => {
    const id = await createGroup('Okta combined', [userIds[0]]);
    const reply = await server.call('PATCH', `/scim/v2/Groups/${id}`, {
      body: patchBody({ op: 'remove', path: `members[value eq "${userIds[0]}"]` }, { op: 'add', path: 'members', value: [{ value: userIds[3], display: 'm3' }] }),
    });
    expect(reply.status).toBe(204);
    expect(await memberIds(id)).toEqual([userIds[3]]);
  });

  it('renames by Okta\'s no-path replace (ignoring id) and empties the group when members is []', async () => {
    const id = await createGroup('Okta old name', [userIds[0], userIds[1]]);
    const reply = await server.call('PATCH', `/scim/v2/Groups/${id}`, {
      body: patchBody({ op: 'replace', value: { id: 'ignored', displayName: 'Okta new name', members: [] } }),
    });
    expect(reply.status).toBe(204);
    const group = await server.call('GET', `/scim/v2/Groups/${id}`);
    expect(group.body.displayName).toBe('Okta new name');
    expect(group.body.members ?? []).toEqual([]);
  });

  it('clears members with remove path "members" and replaces them with replace path "members"', async () => {
    const id = await createGroup('Clear and replace', [userIds[0], userIds[1]]);
    await server.call('PATCH', `/scim/v2/Groups/${id}`, { body: patchBody({ op: 'remove', path: 'members' }) });
    expect(await memberIds(id)).toEqual([]);
    await server.call('PATCH', `/scim/v2/Groups/${id}`, { body: patchBody({ op: 'replace', path: 'members', value: [{ value: userIds[2] }, { value: userIds[3] }] }) });
    expect(await memberIds(id)).toEqual([userIds[2], userIds[3]].sort());
  });

  it('answers 200 with the group when attributes are requested', async () => {
    const id = await createGroup('Asks for body');
    const reply = await server.call('PATCH', `/scim/v2/Groups/${id}?attributes=displayName`, {
      body: patchBody({ op: 'Replace', path: 'displayName', value: 'Got body' }),
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id, displayName: 'Got body' });
  });

  it('answers 204 for member values that are not users (Microsoft garbage PATCH)', async () => {
    const id = await createGroup('Garbage members');
    const reply = await server.call('PATCH', `/scim/v2/Groups/${id}`, { body: patchBody({ op: 'add', path: 'members', value: 'string id 1' }) });
    expect(reply.status).toBe(204);
    expect(await memberIds(id)).toEqual([]);
  });

  it('rejects a PATCH of an immutable attribute (400 mutability) and of an unknown group (404)', async () => {
    const id = await createGroup('Immutable');
    const reply = await server.call('PATCH', `/scim/v2/Groups/${id}`, { body: patchBody({ op: 'replace', path: 'id', value: 'x' }) });
    expect(reply.status).toBe(400);
    expect(reply.body.scimType).toBe('mutability');
    const missing = await server.call('PATCH', '/scim/v2/Groups/missing', { body: patchBody({ op: 'add', path: 'members', value: [{ value: userIds[0] }] }) });
    expect(missing.status).toBe(404);
  });

  it('queues a reconcile of the group after a membership change', async () => {
    const id = await createGroup('Queued after patch');
    await server.clearQueue();
    expect(await server.hasQueuedJob('group', id)).toBe(false);
    await server.call('PATCH', `/scim/v2/Groups/${id}`, { body: patchBody({ op: 'add', path: 'members', value: [{ value: userIds[0] }] }) });
    expect(await server.hasQueuedJob('group', id)).toBe(true);
  });
});

describe('root search', () => {
  it('POST /.search spans users and groups', async () => {
    const reply = await server.call('POST', '/scim/v2/.search', { body: { filter: 'displayName sw "Member 1"' } });
    expect(reply.status).toBe(200);
    expect(reply.body.Resources.map((r: { id: string }) => r.id)).toEqual([userIds[1]]);
  });
});

describe('group ETags', () => {
  it('If-None-Match with the current version answers 304', async () => {
    const id = await createGroup('ETag Read');
    const reply = await server.call('GET', `/scim/v2/Groups/${id}`, { headers: { 'if-none-match': '"1"' } });
    expect(reply.status).toBe(304);
    expect(reply.headers.etag).toBe('W/"1"');
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('%s with a stale If-Match is 412 and leaves the group and its members as they were', async (method) => {
    const id = await createGroup(`ETag ${method}`, [userIds[0]]);
    await server.call('PATCH', `/scim/v2/Groups/${id}`, { body: patchBody({ op: 'add', path: 'members', value: [{ value: userIds[1] }] }) });
    const version = (await server.call('GET', `/scim/v2/Groups/${id}`)).body.meta.version;
    expect(version).toBe('W/"2"');
    const body =
      method === 'PUT'
        ? groupBody(`ETag ${method} renamed`, [userIds[2]])
        : method === 'PATCH'
          ? patchBody({ op: 'remove', path: `members[value eq "${userIds[0]}"]` }, { op: 'replace', path: 'displayName', value: 'Renamed' })
          : undefined;
    const stale = await server.call(method, `/scim/v2/Groups/${id}`, { body, headers: { 'if-match': 'W/"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.body.scimType).toBe('preconditionFailed');
    const after = await server.call('GET', `/scim/v2/Groups/${id}`);
    expect(after.body).toMatchObject({ displayName: `ETag ${method}`, meta: { version: 'W/"2"' } });
    expect(await memberIds(id)).toEqual([userIds[0], userIds[1]].sort());

    const fresh = await server.call(method, `/scim/v2/Groups/${id}`, { body, headers: { 'if-match': version } });
    expect(fresh.status).toBeLessThan(300);
  });
});

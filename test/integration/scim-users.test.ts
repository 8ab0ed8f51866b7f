import { patchBody, startScimServer, userBody, type ScimServer } from './scim-harness';

let server: ScimServer;

beforeAll(async () => {
  server = await startScimServer();
});

afterAll(async () => {
  await server.close();
});

async function createUser(userName: string, extra: Record<string, unknown> = {}): Promise<string> {
  const reply = await server.call('POST', '/scim/v2/Users', { body: userBody(userName, extra) });
  expect(reply.status).toBe(201);
  return reply.body.id;
}

describe('user CRUD', () => {
  it('creates a user: 201, Location, the stored body, SCIM content type, a queued reconcile', async () => {
    const reply = await server.call('POST', '/scim/v2/Users', { body: userBody('crud.create@example.com', { externalId: 'ext-1', password: 'p4ss' }) });
    expect(reply.status).toBe(201);
    expect(reply.headers['content-type']).toBe('application/scim+json; charset=utf-8');
    const id = reply.body.id;
    expect(reply.headers.location).toBe(`${server.origin}/scim/v2/Users/${id}`);
    expect(reply.body).toMatchObject({ userName: 'crud.create@example.com', externalId: 'ext-1', active: true });
    expect(reply.body.meta).toMatchObject({ resourceType: 'User', location: reply.headers.location, version: 'W/"1"' });
    expect(reply.headers.etag).toBe('W/"1"');
    expect(reply.body.password).toBeUndefined();
    expect(await server.hasQueuedJob('user', id)).toBe(true);
  });

  it('refuses a second user with the same userName in any case: 409 uniqueness', async () => {
    await createUser('dup.user@example.com');
    const reply = await server.call('POST', '/scim/v2/Users', { body: userBody('DUP.User@example.com') });
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness' });
    expect(typeof reply.body.detail).toBe('string');
  });

  it('rejects a user without userName or without any e-mail: 400 invalidValue', async () => {
    const { userName: _drop, ...noUserName } = userBody('x@example.com');
    const missing = await server.call('POST', '/scim/v2/Users', { body: noUserName });
    expect(missing.status).toBe(400);
    expect(missing.body.scimType).toBe('invalidValue');
    const noEmail = await server.call('POST', '/scim/v2/Users', { body: { userName: 'no-email-user' } });
    expect(noEmail.status).toBe(400);
    expect(noEmail.body.detail).toMatch(/e-mail/);
  });

  it('reads a user by id; an unknown id is a 404 SCIM Error with detail', async () => {
    const id = await createUser('read.me@example.com');
    const found = await server.call('GET', `/scim/v2/Users/${id}`);
    expect(found.status).toBe(200);
    expect(found.body.id).toBe(id);
    const missing = await server.call('GET', '/scim/v2/Users/00000000-0000-0000-0000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: '404', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
    expect(missing.body.detail).toContain('00000000-0000-0000-0000-000000000000');
  });

  it('replaces a user with PUT, ignoring id and meta in the body, and bumps the version', async () => {
    const id = await createUser('put.me@example.com');
    await server.clearQueue();
    const reply = await server.call('PUT', `/scim/v2/Users/${id}`, {
      body: userBody('put.me@example.com', { id: 'forged', meta: { resourceType: 'User' }, name: { givenName: 'Another', familyName: 'User' }, active: false }),
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id, name: { givenName: 'Another', familyName: 'User' }, active: false });
    expect(reply.body.meta.version).toBe('W/"2"');
    expect(await server.hasQueuedJob('user', id)).toBe(true);
    const missingUserName = await server.call('PUT', `/scim/v2/Users/${id}`, { body: { emails: [{ value: 'a@b.c' }] } });
    expect(missingUserName.status).toBe(400);
  });

  it('patches a user (Entra style) and answers 200 with the user', async () => {
    const id = await createUser('patch.me@example.com');
    await server.clearQueue();
    const reply = await server.call('PATCH', `/scim/v2/Users/${id}`, {
      body: patchBody({ op: 'Replace', path: 'active', value: 'False' }, { op: 'Replace', path: 'name.givenName', value: 'Gtfd' }),
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id, active: false, name: { givenName: 'Gtfd' } });
    expect(await server.hasQueuedJob('user', id)).toBe(true);
  });

  it('PUT or PATCH of an unknown user is 404', async () => {
    const put = await server.call('PUT', '/scim/v2/Users/nobody', { body: userBody('nobody@example.com') });
    expect(put.status).toBe(404);
    const patch = await server.call('PATCH', '/scim/v2/Users/nobody', { body: patchBody({ op: 'replace', path: 'active', value: false }) });
    expect(patch.status).toBe(404);
  });

  it('deletes a user: 204, then 404, and the deletion is queued', async () => {
    const id = await createUser('delete.me@example.com');
    await server.clearQueue();
    const reply = await server.call('DELETE', `/scim/v2/Users/${id}`);
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect((await server.call('GET', `/scim/v2/Users/${id}`)).status).toBe(404);
    expect((await server.call('DELETE', `/scim/v2/Users/${id}`)).status).toBe(404);
    expect(await server.hasQueuedJob('user', id)).toBe(true);
  });

  it('serves case-insensitive resource paths and a trailing slash', async () => {
    const id = await createUser('paths@example.com');
    expect((await server.call('GET', `/scim/v2/users/${id}`)).status).toBe(200);
    expect((await server.call('GET', '/scim/v2/USERS/')).status).toBe(200);
  });
});

describe('user lists and filters', () => {
  let ids: string[];

  beforeAll(async () => {
    ids = [];
    for (let i = 0; i < 7; i++) {
      ids.push(await createUser(`list.user${i}@filter.test`, { externalId: `list-ext-${i}`, displayName: `List User ${i}` }));
    }
  });

  async function list(query: string) {
    const reply = await server.call('GET', `/scim/v2/Users?${query}`);
    expect(reply.status).toBe(200);
    expect(reply.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
    return reply.body;
  }

  it('finds by userName case-insensitively, with a URL-encoded filter', async () => {
    const body = await list(`filter=${encodeURIComponent('userName eq "LIST.USER3@FILTER.TEST"')}&startIndex=1&count=100`);
    expect(body.totalResults).toBe(1);
    expect(body.Resources[0].id).toBe(ids[3]);
  });

  it('finds by externalId exactly, by work e-mail, and by id', async () => {
    expect((await list(`filter=${encodeURIComponent('externalId eq "list-ext-4"')}`)).Resources.map((r: { id: string }) => r.id)).toEqual([ids[4]]);
    expect((await list(`filter=${encodeURIComponent('externalId eq "LIST-EXT-4"')}`)).totalResults).toBe(0);
    const byEmail = await list(`filter=${encodeURIComponent('emails[type eq "work"].value eq "list.user5@filter.test"')}`);
    expect(byEmail.Resources.map((r: { id: string }) => r.id)).toEqual([ids[5]]);
    expect((await list(`filter=${encodeURIComponent(`id eq "${ids[6]}"`)}`)).Resources[0].id).toBe(ids[6]);
  });

  it('answers a filter that matches nothing with 200 and an empty ListResponse of integers', async () => {
    const body = await list('filter=userName+eq+%22nobody%40nowhere.test%22');
    expect(body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
  });

  it('applies non-indexed filters (sw, co, and/or) by scanning', async () => {
    expect((await list(`filter=${encodeURIComponent('userName sw "list.user"')}`)).totalResults).toBe(7);
    const body = await list(`filter=${encodeURIComponent('displayName co "User 1" or displayName co "User 2"')}`);
    expect(body.Resources.map((r: { id: string }) => r.id).sort()).toEqual([ids[1], ids[2]].sort());
  });

  it('rejects a malformed filter with 400 invalidFilter', async () => {
    const reply = await server.call('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq')}`);
    expect(reply.status).toBe(400);
    expect(reply.body.scimType).toBe('invalidFilter');
  });

  it('pages in a stable order: startIndex is 1-based, count caps the page, pages do not overlap', async () => {
    const filter = `filter=${encodeURIComponent('userName sw "list.user"')}`;
    const seen: string[] = [];
    for (let startIndex = 1; startIndex <= 7; startIndex += 3) {
      const page = await list(`${filter}&startIndex=${startIndex}&count=3`);
      expect(page.startIndex).toBe(startIndex);
      expect(page.totalResults).toBe(7);
      expect(page.itemsPerPage).toBe(page.Resources.length);
      seen.push(...page.Resources.map((r: { id: string }) => r.id));
    }
    expect(seen).toEqual(ids);
    const unfiltered = await list('startIndex=0&count=2');
    expect(unfiltered.startIndex).toBe(1);
    expect(unfiltered.itemsPerPage).toBe(2);
  });

  it('allows count=0: totals only', async () => {
    const body = await list(`filter=${encodeURIComponent('userName sw "list.user"')}&count=0`);
    expect(body.totalResults).toBe(7);
    expect(body.Resources).toEqual([]);
    expect(body.itemsPerPage).toBe(0);
  });

  it('caps count at the configured page size', async () => {
    const capped = await startScimServer({ env: { SCIM_MAX_PAGE_SIZE: '2' } });
    try {
      for (const name of ['cap.a@example.com', 'cap.b@example.com', 'cap.c@example.com']) {
        expect((await capped.call('POST', '/scim/v2/Users', { body: { userName: name } })).status).toBe(201);
      }
      const reply = await capped.call('GET', '/scim/v2/Users?count=100');
      expect(reply.body.totalResults).toBe(3);
      expect(reply.body.itemsPerPage).toBe(2);
    } finally {
      await capped.close();
    }
  });

  it('projects with attributes and excludedAttributes, always keeping id and schemas', async () => {
    const only = await list(`filter=${encodeURIComponent(`id eq "${ids[0]}"`)}&attributes=userName,emails`);
    const [user] = only.Resources;
    expect(user.id).toBe(ids[0]);
    expect(user.schemas).toBeDefined();
    expect(user.userName).toBe('list.user0@filter.test');
    expect(user.emails).toBeDefined();
    expect(user.displayName).toBeUndefined();
    const without = await list(`filter=${encodeURIComponent(`id eq "${ids[0]}"`)}&excludedAttributes=emails,name`);
    expect(without.Resources[0].emails).toBeUndefined();
    expect(without.Resources[0].displayName).toBe('List User 0');
  });

  it('answers POST /Users/.search like a GET with the same parameters', async () => {
    const reply = await server.call('POST', '/scim/v2/Users/.search', {
      body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq "list.user2@filter.test"', attributes: ['userName'], startIndex: 1, count: 10 },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.totalResults).toBe(1);
    expect(reply.body.Resources[0]).toMatchObject({ id: ids[2], userName: 'list.user2@filter.test' });
    expect(reply.body.Resources[0].emails).toBeUndefined();
  });
});

describe('identity data', () => {
  it.each([
    ['a Kelvin sign', '\u212Aate.fold@example.com', 'kate.fold@example.com'],
    ['full-width letters', 'ｏｐｓ-ａｄｍｉｎ.fold@example.com', 'ops-admin.fold@example.com'],
  ])('a userName written with %s cannot squat one already in use: 409 uniqueness, in both orders', async (_name, lookalike, plain) => {
    await createUser(plain);
    const squat = await server.call('POST', '/scim/v2/Users', { body: userBody(lookalike, { emails: [{ value: `other.${plain}`, primary: true }] }) });
    expect(squat.status).toBe(409);
    expect(squat.body.scimType).toBe('uniqueness');
  });

  it('a lookalike taken first blocks the plain name too, and a rename into a lookalike is refused', async () => {
    await createUser('\u212Aim.first@example.com', { emails: [{ value: 'kim.first@example.com', primary: true }] });
    const plain = await server.call('POST', '/scim/v2/Users', { body: userBody('kim.first@example.com') });
    expect(plain.status).toBe(409);
    const other = await createUser('lee.first@example.com');
    const rename = await server.call('PATCH', `/scim/v2/Users/${other}`, { body: patchBody({ op: 'replace', path: 'userName', value: 'KIM.FIRST@example.com' }) });
    expect(rename.status).toBe(409);
  });

  it('a userName with a bidi control is 400 invalidValue and nothing is stored', async () => {
    const reply = await server.call('POST', '/scim/v2/Users', { body: userBody('bidi\u202Euser@example.com', { emails: [{ value: 'bidi.user@example.com', primary: true }] }) });
    expect(reply.status).toBe(400);
    expect(reply.body.scimType).toBe('invalidValue');
    const list = await server.call('GET', `/scim/v2/Users?filter=${encodeURIComponent('emails eq "bidi.user@example.com"')}`);
    expect(list.body.totalResults).toBe(0);
  });

  it('two primary e-mails on POST are 400 invalidValue; a PATCH making another one primary demotes the first', async () => {
    const two = await server.call('POST', '/scim/v2/Users', {
      body: userBody('two.primary@example.com', { emails: [{ value: 'two.primary@example.com', primary: true }, { value: 'two@home.example.com', primary: true }] }),
    });
    expect(two.status).toBe(400);
    expect(two.body.scimType).toBe('invalidValue');

    const id = await createUser('one.primary@example.com', { emails: [{ value: 'one.primary@example.com', primary: true }, { value: 'one@home.example.com' }] });
    const patched = await server.call('PATCH', `/scim/v2/Users/${id}`, { body: patchBody({ op: 'replace', path: 'emails[value eq "one@home.example.com"].primary', value: true }) });
    expect(patched.status).toBe(200);
    expect(patched.body.emails).toEqual([
      { value: 'one.primary@example.com', primary: false },
      { value: 'one@home.example.com', primary: true },
    ]);
  });
});

describe('ETags', () => {
  it('ServiceProviderConfig advertises them', async () => {
    expect((await server.call('GET', '/scim/v2/ServiceProviderConfig')).body.etag).toEqual({ supported: true });
  });

  it('If-None-Match with the current version answers 304 without a body; an older one gets the resource', async () => {
    const id = await createUser('etag.read@example.com');
    const current = await server.call('GET', `/scim/v2/Users/${id}`, { headers: { 'if-none-match': 'W/"1"' } });
    expect(current.status).toBe(304);
    expect(current.text).toBe('');
    expect(current.headers.etag).toBe('W/"1"');
    await server.call('PATCH', `/scim/v2/Users/${id}`, { body: patchBody({ op: 'replace', path: 'displayName', value: 'Changed' }) });
    const stale = await server.call('GET', `/scim/v2/Users/${id}`, { headers: { 'if-none-match': 'W/"1"' } });
    expect(stale.status).toBe(200);
    expect(stale.headers.etag).toBe('W/"2"');
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('%s with a stale If-Match is 412 preconditionFailed and changes nothing; the current one succeeds', async (method) => {
    const id = await createUser(`etag.${method.toLowerCase()}@example.com`);
    await server.call('PATCH', `/scim/v2/Users/${id}`, { body: patchBody({ op: 'replace', path: 'displayName', value: 'Version Two' }) });
    const body =
      method === 'PUT'
        ? userBody(`etag.${method.toLowerCase()}@example.com`, { displayName: 'Replaced' })
        : method === 'PATCH'
          ? patchBody({ op: 'replace', path: 'displayName', value: 'Patched' })
          : undefined;
    const stale = await server.call(method, `/scim/v2/Users/${id}`, { body, headers: { 'if-match': 'W/"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ status: '412', scimType: 'preconditionFailed' });
    expect(stale.body.detail).toMatch(/W\/"2"/);
    const after = await server.call('GET', `/scim/v2/Users/${id}`);
    expect(after.body).toMatchObject({ displayName: 'Version Two', meta: { version: 'W/"2"' } });

    const fresh = await server.call(method, `/scim/v2/Users/${id}`, { body, headers: { 'if-match': 'W/"2"' } });
    expect(fresh.status).toBe(method === 'DELETE' ? 204 : 200);
  });

  it('If-Match: * matches any existing version', async () => {
    const id = await createUser('etag.star@example.com');
    const reply = await server.call('PATCH', `/scim/v2/Users/${id}`, { body: patchBody({ op: 'replace', path: 'displayName', value: 'Star' }), headers: { 'if-match': '*' } });
    expect(reply.status).toBe(200);
  });
});

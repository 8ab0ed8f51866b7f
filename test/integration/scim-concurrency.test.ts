import { groupBody, patchBody, startScimServer, userBody, type ScimServer } from './scim-harness';

let server: ScimServer;

beforeAll(async () => {
  server = await startScimServer();
});

afterAll(async () => {
  await server.close();
});

describe('concurrent writes', () => {
  it('100 concurrent PATCHes each adding a different member leave all 100 members', async () => {
    const userIds: string[] = [];
    for (let i = 0; i < 100; i++) {
      userIds.push((await server.call('POST', '/scim/v2/Users', { body: userBody(`concurrent${i}@example.com`) })).body.id);
    }
    const groupId = (await server.call('POST', '/scim/v2/Groups', { body: groupBody('Concurrent group') })).body.id;
    const replies = await Promise.all(
      userIds.map((value) => server.call('PATCH', `/scim/v2/Groups/${groupId}`, { body: patchBody({ op: 'add', path: 'members', value: [{ value }] }) })),
    );
    expect(replies.map((r) => r.status)).toEqual(userIds.map(() => 204));
    const group = await server.call('GET', `/scim/v2/Groups/${groupId}`);
    expect(group.body.members.map((m: { value: string }) => m.value).sort()).toEqual([...userIds].sort());
    expect(await server.hasQueuedJob('group', groupId)).toBe(true);
  });

  it('concurrent PUTs and PATCHes on one user end in a serial-equivalent state', async () => {
    const created = (await server.call('POST', '/scim/v2/Users', { body: userBody('contended@example.com', { title: 'initial' }) })).body;
    const id = created.id;
    // A PATCH sets nickName and keeps the title; a PUT replaces the user: a new title and no nickName.
    type Write = { kind: 'patch' | 'put'; value: string };
    const writes: Write[] = [
      ...Array.from({ length: 20 }, (_, i): Write => ({ kind: 'patch', value: `nick-${i}` })),
      ...Array.from({ length: 5 }, (_, i): Write => ({ kind: 'put', value: `title-${i}` })),
    ].sort(() => Math.random() - 0.5);
    const results = await Promise.all(
      writes.map(async (write) => {
        const reply =
          write.kind === 'patch'
            ? await server.call('PATCH', `/scim/v2/Users/${id}`, { body: patchBody({ op: 'add', path: 'nickName', value: write.value }) })
            : await server.call('PUT', `/scim/v2/Users/${id}`, { body: userBody('contended@example.com', { title: write.value }) });
        expect(reply.status).toBe(200);
        return { write, body: reply.body, version: Number(/^W\/"(\d+)"$/.exec(reply.body.meta.version)![1]) };
      }),
    );
    results.sort((a, b) => a.version - b.version);
    // Each write got its own version, in one unbroken sequence after the create...
    expect(results.map((r) => r.version)).toEqual(writes.map((_, i) => i + 2));
    // ...and each response is exactly its write applied to the state the previous version left.
    let previous: { title?: string; nickName?: string } = created;
    for (const { write, body } of results) {
      const expected = write.kind === 'patch' ? { title: previous.title, nickName: write.value } : { title: write.value, nickName: undefined };
      expect({ title: body.title, nickName: body.nickName }).toEqual(expected);
      previous = body;
    }
    const final = (await server.call('GET', `/scim/v2/Users/${id}`)).body;
    expect({ title: final.title, nickName: final.nickName }).toEqual({ title: previous.title, nickName: previous.nickName });
  });
});

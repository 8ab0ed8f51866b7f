import { RedisStore } from '../../src/store/redis-store';
import { StoreError } from '../../src/store/types';
import { type StoredResource, type UserIndexFields } from '../../src/model/resource';
import { expectConsistent, openTestStore, userDoc } from './store-fixtures';
import { deleteTestKeys } from '../redis';

const t = openTestStore();
const { store } = t;

afterAll(async () => {
  await deleteTestKeys(t.redis, t.prefix);
  t.redis.disconnect();
});

async function createUser(userName: string, fields: Partial<UserIndexFields> = {}, extra: Record<string, unknown> = {}): Promise<StoredResource> {
  return store.createUser(userDoc(userName, extra), { userName, emails: [], ...fields });
}

function rename(userName: string, fields: Partial<UserIndexFields> = {}) {
  return (current: StoredResource) => ({ doc: { ...current.doc, userName }, fields: { userName, emails: [], ...fields } });
}

describe('RedisStore users', () => {
  test('create stores the document at version 1 with created = lastModified, and indexes it', async () => {
    const before = Date.now();
    const created = await createUser('Alice', { emails: ['Alice@Example.com'], externalId: 'ext-alice' });
    expect(created.version).toBe(1);
    expect(created.created).toBeGreaterThanOrEqual(before);
    expect(created.lastModified).toBe(created.created);
    expect(await store.getUser(created.id)).toEqual(created);
    expect(await store.findUsers('userName', 'ALICE')).toEqual([created.id]);
    expect(await store.findUsers('email', 'alice@example.COM')).toEqual([created.id]);
    expect(await store.findUsers('externalId', 'ext-alice')).toEqual([created.id]);
    expect(await store.findUsers('externalId', 'EXT-ALICE')).toEqual([]);
    await expectConsistent(t);
  });

  test('userName is unique case-insensitively on create and on update, and the loser changes nothing', async () => {
    const bob = await createUser('bob');
    await expect(createUser('BOB')).rejects.toMatchObject({ code: 'uniqueness' });
    const carol = await createUser('carol');
    await expect(store.updateUser(carol.id, rename('Bob'))).rejects.toMatchObject({ code: 'uniqueness' });
    expect((await store.getUser(carol.id))?.version).toBe(1);
    expect(await store.findUsers('userName', 'carol')).toEqual([carol.id]);
    // Changing only the case of one's own userName is not a clash.
    const renamed = await store.updateUser(bob.id, rename('BoB'));
    expect(renamed.doc.userName).toBe('BoB');
    expect(await store.findUsers('userName', 'bob')).toEqual([bob.id]);
    await expectConsistent(t);
  });

  test('creating an id that exists is refused', async () => {
    const dave = await createUser('dave');
    await expect(store.createUser({ ...dave.doc }, { userName: 'dave2', emails: [] })).rejects.toMatchObject({ code: 'uniqueness' });
    await expectConsistent(t);
  });

  test('update moves userName, email and externalId index entries and bumps the version', async () => {
    const erin = await createUser('erin', { emails: ['erin@a.test', 'shared@a.test'], externalId: 'x1' });
    const frank = await createUser('frank', { emails: ['shared@a.test'], externalId: 'x1' });
    expect(await store.findUsers('externalId', 'x1')).toEqual([erin.id, frank.id].sort());

    const updated = await store.updateUser(erin.id, rename('erin2', { emails: ['erin@b.test', 'shared@a.test'], externalId: 'x2' }));
    expect(updated.version).toBe(2);
    expect(updated.created).toBe(erin.created);
    expect(updated.lastModified).toBeGreaterThanOrEqual(erin.lastModified);
    expect(await store.findUsers('userName', 'erin')).toEqual([]);
    expect(await store.findUsers('userName', 'erin2')).toEqual([erin.id]);
    expect(await store.findUsers('email', 'erin@a.test')).toEqual([]);
    expect(await store.findUsers('email', 'erin@b.test')).toEqual([erin.id]);
    expect(await store.findUsers('email', 'shared@a.test')).toEqual([erin.id, frank.id].sort());
    expect(await store.findUsers('externalId', 'x1')).toEqual([frank.id]);
    expect(await store.findUsers('externalId', 'x2')).toEqual([erin.id]);
    // The old userName is free again.
    await createUser('erin');
    await expectConsistent(t);
  });

  test('update and delete of a missing user', async () => {
    await expect(store.updateUser('no-such-user', rename('x'))).rejects.toBeInstanceOf(StoreError);
    await expect(store.updateUser('no-such-user', rename('x'))).rejects.toMatchObject({ code: 'not_found' });
    expect(await store.deleteUser('no-such-user')).toEqual({ deleted: false, groupIds: [] });
  });

  test('delete removes the record and its index entries, keeps the sync record, and marks it pending', async () => {
    const gina = await createUser('gina', { emails: ['gina@a.test'], externalId: 'g1' });
    await store.setSync('user', gina.id, { applied: { coderId: 'c-gina' }, appliedVersion: 1 });
    expect(await store.deleteUser(gina.id)).toEqual({ deleted: true, groupIds: [] });
    expect(await store.getUser(gina.id)).toBeNull();
    expect(await store.findUsers('userName', 'gina')).toEqual([]);
    expect(await store.findUsers('email', 'gina@a.test')).toEqual([]);
    expect(await store.findUsers('externalId', 'g1')).toEqual([]);
    expect(await store.getSync('user', gina.id)).toEqual({ applied: { coderId: 'c-gina' }, appliedVersion: 1 });
    expect(await store.syncIds('user')).toContain(gina.id);
    const mark = (await store.pending()).find((p) => p.id === gina.id);
    expect(mark).toEqual({ kind: 'user', id: gina.id, version: 2 });
    expect(await store.deleteUser(gina.id)).toEqual({ deleted: false, groupIds: [] });
    await expectConsistent(t);
  });

  test('getUsers reads many in order, with null for the missing', async () => {
    const a = await createUser('batch-a');
    const b = await createUser('batch-b');
    expect(await store.getUsers([b.id, 'missing', a.id])).toEqual([b, null, a]);
    expect(await store.getUsers([])).toEqual([]);
  });
});

describe('RedisStore pagination', () => {
  test('pages follow creation order and stay stable across updates and deletes of other users', async () => {
    const local = openTestStore();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push((await local.store.createUser(userDoc(`page-${i}`), { userName: `page-${i}`, emails: [] })).id);
      const first = await local.store.listUsers(0, 5);
      expect(first).toEqual({ ids: ids.slice(0, 5), total: 12 });
      // Updates do not move a user; deletes shift later users up by one, keeping their relative order.
      await local.store.updateUser(ids[1], (c) => ({ doc: { ...c.doc, title: 'x' }, fields: { userName: 'page-1', emails: [] } }));
      await local.store.deleteUser(ids[3]);
      const remaining = ids.filter((id) => id !== ids[3]);
      expect(await local.store.listUsers(0, 5)).toEqual({ ids: remaining.slice(0, 5), total: 11 });
      expect(await local.store.listUsers(5, 5)).toEqual({ ids: remaining.slice(5, 10), total: 11 });
      expect(await local.store.listUsers(10, 5)).toEqual({ ids: remaining.slice(10), total: 11 });
      expect(await local.store.listUsers(0, 0)).toEqual({ ids: [], total: 11 });
      expect(await local.store.counts()).toEqual({ users: 11, groups: 0 });
    } finally {
      await deleteTestKeys(local.redis, local.prefix);
      local.redis.disconnect();
    }
  });
});

describe('RedisStore concurrency', () => {
  test('50 concurrent read-modify-write updates from two clients all apply (serial equivalence)', async () => {
    const other = openTestStore();
    const second = new RedisStore(other.redis, t.prefix);
    try {
      const user = await createUser('counter', {}, { counter: 0 });
      const increment = (current: StoredResource) => ({
        doc: { ...current.doc, counter: (current.doc.counter as number) + 1 },
        fields: { userName: 'counter', emails: [] },
      });
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? second : store).updateUser(user.id, increment)));
      const final = await store.getUser(user.id);
      expect(final?.doc.counter).toBe(50);
      expect(final?.version).toBe(51);
      // Each update saw a distinct predecessor: the versions it produced are exactly 2..51.
      expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
      expect(results.map((r) => r.doc.counter).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    } finally {
      other.redis.disconnect();
    }
  });

  test('100 concurrent updates to one user all succeed', async () => {
    const user = await createUser('hot', {}, { counter: 0 });
    await Promise.all(
      Array.from({ length: 100 }, () =>
        store.updateUser(user.id, (c) => ({ doc: { ...c.doc, counter: (c.doc.counter as number) + 1 }, fields: { userName: 'hot', emails: [] } })),
      ),
    );
    expect((await store.getUser(user.id))?.doc.counter).toBe(100);
  });

  test('concurrent creates of one userName: exactly one wins', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => createUser(i % 2 ? 'Race' : 'race')));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'uniqueness' });
    await expectConsistent(t);
  });
});

describe('RedisStore pending marks and sync status', () => {
  test('every write marks the resource pending at its latest version; clearPending spares newer versions', async () => {
    const local = openTestStore();
    try {
      const user = await local.store.createUser(userDoc('pend'), { userName: 'pend', emails: [] });
      expect(await local.store.pending()).toEqual([{ kind: 'user', id: user.id, version: 1 }]);
      const updated = await local.store.updateUser(user.id, (c) => ({ doc: c.doc, fields: { userName: 'pend', emails: [] } }));
      expect(await local.store.pending()).toEqual([{ kind: 'user', id: user.id, version: updated.version }]);
      // A worker that reconciled version 1 must not clear the mark of version 2.
      await local.store.clearPending('user', user.id, 1);
      expect(await local.store.pending()).toEqual([{ kind: 'user', id: user.id, version: 2 }]);
      await local.store.clearPending('user', user.id, 2);
      expect(await local.store.pending()).toEqual([]);

      const other = await local.store.createUser(userDoc('pend2'), { userName: 'pend2', emails: [] });
      await local.store.updateUser(user.id, (c) => ({ doc: c.doc, fields: { userName: 'pend', emails: [] } }));
      expect(await local.store.pending(1)).toHaveLength(1);
      expect(await local.store.pending(0)).toEqual([]);
      expect((await local.store.pending()).map((p) => p.id).sort()).toEqual([user.id, other.id].sort());
    } finally {
      await deleteTestKeys(local.redis, local.prefix);
      local.redis.disconnect();
    }
  });

  test('sync status round-trips and syncIds tracks it', async () => {
    const user = await createUser('synced');
    expect(await store.getSync('user', user.id)).toBeNull();
    const status = {
      applied: { coderId: 'c1', username: 'synced', email: 's@a.test', name: 'S', status: 'active' as const, orgMember: true },
      appliedVersion: 1,
      lastSuccessAt: Date.now(),
      lastError: { code: 'coder_http', message: 'nope', coderStatus: 400, permanent: true, at: Date.now(), version: 1 },
      notes: ['email change not appliable'],
    };
    await store.setSync('user', user.id, status);
    expect(await store.getSync('user', user.id)).toEqual(status);
    expect(await store.syncIds('user')).toContain(user.id);
    expect(await store.syncIds('group')).not.toContain(user.id);
    await store.deleteSync('user', user.id);
    expect(await store.getSync('user', user.id)).toBeNull();
    expect(await store.syncIds('user')).not.toContain(user.id);
  });
});

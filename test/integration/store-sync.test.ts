import { ClaimIndex } from '../../src/store/claims';
import type { SyncError } from '../../src/model/sync';
import { openTestStore } from './store-fixtures';
import { deleteTestKeys } from '../redis';

const t = openTestStore();
const { store } = t;

afterAll(async () => {
  await deleteTestKeys(t.redis, t.prefix);
  t.redis.disconnect();
});

afterEach(() => jest.restoreAllMocks());

function syncError(permanent: boolean, at: number): SyncError {
  return { code: 'coder_http', message: permanent ? 'Coder said no' : 'Coder is busy', coderStatus: permanent ? 400 : 503, permanent, at, version: 1 };
}

describe('RedisStore getSyncs', () => {
  test('reads many sync statuses in one MGET, in the order asked, null where there is none', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `batch-${i}`);
    const written = ids.filter((_, i) => i % 3 !== 0);
    await Promise.all(written.map((id, i) => store.setSync('user', id, { applied: { coderId: `c-${id}` }, appliedVersion: i })));
    await store.setSync('group', ids[0], { applied: { coderId: 'a group, not a user' } });

    const mget = jest.spyOn(t.redis, 'mget');
    const get = jest.spyOn(t.redis, 'get');
    const asked = [...ids].reverse();
    const statuses = await store.getSyncs<{ coderId: string }>('user', asked);

    expect(mget).toHaveBeenCalledTimes(1);
    expect(get).not.toHaveBeenCalled();
    expect(statuses).toHaveLength(asked.length);
    const expected = asked.map((id) => (written.includes(id) ? { applied: { coderId: `c-${id}` }, appliedVersion: written.indexOf(id) } : null));
    expect(statuses).toEqual(expected);
  });

  test('no ids, no round trip', async () => {
    const mget = jest.spyOn(t.redis, 'mget');
    expect(await store.getSyncs('group', [])).toEqual([]);
    expect(mget).not.toHaveBeenCalled();
  });
});

describe('RedisStore failure index', () => {
  const indexed = async () => t.redis.zrange(t.keys.failures(), 0, '-1', 'WITHSCORES');

  test('setSync adds a permanent failure scored by its time, and any other status removes it; deleteSync removes it', async () => {
    const local = openTestStore();
    try {
      await local.store.setSync('user', 'u1', { lastError: syncError(true, 1_000) });
      await local.store.setSync('group', 'g1', { lastError: syncError(true, 2_000) });
      await local.store.setSync('user', 'u2', { lastError: syncError(false, 3_000) });
      const failures = () => local.redis.zrange(local.keys.failures(), 0, '-1', 'WITHSCORES');
      expect(await failures()).toEqual(['user:u1', '1000', 'group:g1', '2000']);

      await local.store.setSync('user', 'u1', { lastError: syncError(true, 4_000) });
      expect(await failures()).toEqual(['group:g1', '2000', 'user:u1', '4000']);
      await local.store.setSync('user', 'u1', { lastError: syncError(false, 5_000) });
      expect(await failures()).toEqual(['group:g1', '2000']);
      await local.store.setSync('user', 'u2', { lastError: syncError(true, 6_000) });
      await local.store.setSync('user', 'u2', { applied: { coderId: 'c2' }, lastSuccessAt: 7_000 });
      expect(await failures()).toEqual(['group:g1', '2000']);
      await local.store.deleteSync('group', 'g1');
      expect(await failures()).toEqual([]);
    } finally {
      await deleteTestKeys(local.redis, local.prefix);
      local.redis.disconnect();
    }
  });

  test('permanentFailures counts per kind and lists the first `limit`, users first in id order, with their status', async () => {
    for (const id of ['u-c', 'u-a', 'u-b']) await store.setSync('user', id, { appliedVersion: 1, lastError: syncError(true, 100) });
    await store.setSync('group', 'g-a', { lastError: syncError(true, 50) });
    await store.setSync('user', 'u-ok', { lastError: syncError(false, 100) });
    expect(await indexed()).toHaveLength(8);

    const all = await store.permanentFailures(10);
    expect(all.total).toEqual({ user: 3, group: 1 });
    expect(all.items.map(({ kind, id }) => `${kind}:${id}`)).toEqual(['user:u-a', 'user:u-b', 'user:u-c', 'group:g-a']);
    expect(all.items[0].status).toEqual({ appliedVersion: 1, lastError: syncError(true, 100) });

    const two = await store.permanentFailures(2);
    expect(two.total).toEqual({ user: 3, group: 1 });
    expect(two.items.map(({ id }) => id)).toEqual(['u-a', 'u-b']);

    const mget = jest.spyOn(t.redis, 'mget');
    expect(await store.permanentFailures(0)).toEqual({ total: { user: 3, group: 1 }, items: [] });
    expect(mget).not.toHaveBeenCalled();
  });
});

describe('RedisStore setSync with created Coder ids', () => {
  test('claims the created ids for the resource in the same write, readable through the claim index', async () => {
    const claims = new ClaimIndex(t.redis, t.prefix);
    await store.setSync('user', 'scim-created', { applied: { coderId: 'coder-new' } }, ['coder-new']);
    expect(await claims.holder('user', 'coder-new')).toBe('scim-created');
    expect(await claims.holder('group', 'coder-new')).toBeNull();
    // One MULTI carries both: no sync status without its claim.
    const multi = jest.spyOn(t.redis, 'multi');
    await store.setSync('group', 'scim-group', { applied: { coderId: 'coder-g' } }, ['coder-g']);
    expect(multi).toHaveBeenCalledTimes(1);
    expect(await claims.holder('group', 'coder-g')).toBe('scim-group');
  });
});

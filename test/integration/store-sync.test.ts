import { deleteTestKeys, openTestStore } from './store-fixtures';

const t = openTestStore();
const { store } = t;

afterAll(async () => {
  await deleteTestKeys(t.redis, t.prefix);
  t.redis.disconnect();
});

afterEach(() => jest.restoreAllMocks());

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

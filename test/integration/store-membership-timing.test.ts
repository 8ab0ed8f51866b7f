import { StoreKeys } from '../../src/store/keys';
import { seedBareUsers } from '../bounded/attacks';
import { deleteTestKeys, groupDoc, openTestStore, userDoc } from './store-fixtures';

const t = openTestStore();
const { store } = t;

afterAll(async () => {
  await deleteTestKeys(t.redis, t.prefix);
  t.redis.disconnect();
}, 60_000);

const BIG_GROUP = 100_000;
const SAMPLES = 200;

/** p99 of one-member add/remove pairs on the group, in milliseconds. */
async function p99OfOneMemberChanges(groupId: string, userId: string): Promise<number> {
  const durations: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const change = i % 2 === 0 ? { add: [userId] } : { remove: [userId] };
    const started = process.hrtime.bigint();
    await store.changeMembers(groupId, change);
    durations.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  durations.sort((a, b) => a - b);
  return durations[Math.floor(SAMPLES * 0.99) - 1];
}

test('a one-member change costs the same on a 100,000-member group as on a 10-member group', async () => {
  // Members only need to exist as users: written straight into the store's layout, which is many times cheaper.
  const members = await seedBareUsers(t.redis, t.prefix, BIG_GROUP);
  const probe = (await store.createUser(userDoc('probe'), { userName: 'probe', emails: [] })).id;
  const small = await store.createGroup(groupDoc('small'), { displayName: 'small' }, members.slice(0, 10));
  const big = await store.createGroup(groupDoc('big'), { displayName: 'big' }, members);
  expect(await t.redis.scard(new StoreKeys(t.prefix).members(big.id))).toBe(BIG_GROUP);

  await p99OfOneMemberChanges(small.id, probe); // warm up the script cache and the connection
  const smallP99 = await p99OfOneMemberChanges(small.id, probe);
  const bigP99 = await p99OfOneMemberChanges(big.id, probe);
  expect(await store.isMember(big.id, probe)).toBe(false);
  expect(await store.memberIds(small.id)).toHaveLength(10);
  // A floor of 2 ms keeps scheduler noise on a sub-millisecond baseline from failing the ratio.
  expect(bigP99).toBeLessThan(3 * Math.max(smallP99, 2));
}, 120_000);

import { StoreKeys } from '../../src/store/keys';
import { deleteTestKeys, groupDoc, openTestStore, userDoc } from './store-fixtures';

const t = openTestStore();
const { store } = t;

afterAll(async () => {
  await deleteTestKeys(t.redis, t.prefix);
  t.redis.disconnect();
}, 60_000);

const BIG_GROUP = 100_000;
const SAMPLES = 200;

/** Creates users through the store in concurrent batches (ioredis pipelines commands issued together). */
async function seedUsers(count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 2_000) {
    const batch = Array.from({ length: Math.min(2_000, count - start) }, (_, i) => `${label}-${start + i}`);
    const created = await Promise.all(batch.map((name) => store.createUser(userDoc(name), { userName: name, emails: [] })));
    ids.push(...created.map((u) => u.id));
  }
  return ids;
}

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
  const members = await seedUsers(BIG_GROUP, 'big');
  const [probe] = await seedUsers(1, 'probe');
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

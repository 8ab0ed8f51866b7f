import { groupDoc, openTestStore, userDoc } from './store-fixtures';
import { deleteTestKeys } from '../redis';

/**
 * Issue 13: every membership write records, in the same script, which members changed (stamped with the group's
 * new version), so the reconciler applies the change without reading the group; settling removes exactly what
 * was read, never a newer change.
 */

const t = openTestStore();
const { store, redis, keys } = t;

afterAll(async () => {
  await deleteTestKeys(redis, t.prefix);
  redis.disconnect();
});

async function users(count: number, label: string): Promise<string[]> {
  const created = await Promise.all(Array.from({ length: count }, (_, i) => store.createUser(userDoc(`${label}-${i}`), { userName: `${label}-${i}`, emails: [] })));
  return created.map((u) => u.id);
}

async function changes(groupId: string): Promise<Record<string, string>> {
  return redis.hgetall(keys.memberChanges(groupId));
}

test('create, add, remove and replace record exactly the members that changed, stamped with the new version', async () => {
  const [a, b, c, d] = await users(4, 'rec');
  const group = await store.createGroup(groupDoc('Recorded'), { displayName: 'Recorded' }, [a, b, 'ghost']);
  expect(await changes(group.id)).toEqual({ [a]: '1', [b]: '1' });

  const added = await store.changeMembers(group.id, { add: [b, c] });
  expect(added.version).toBe(2);
  expect(await changes(group.id)).toEqual({ [a]: '1', [b]: '1', [c]: '2' });

  await store.changeMembers(group.id, { remove: [a, d] });
  expect(await changes(group.id)).toEqual({ [a]: '3', [b]: '1', [c]: '2' });

  await store.changeMembers(group.id, { replace: [b, d] });
  expect(await changes(group.id)).toEqual({ [a]: '3', [b]: '1', [c]: '4', [d]: '4' });
});

test('a no-op membership write records nothing and does not bump the group', async () => {
  const [a] = await users(1, 'noop');
  const group = await store.createGroup(groupDoc('Quiet'), { displayName: 'Quiet' }, [a]);
  await redis.del(keys.memberChanges(group.id));
  const result = await store.changeMembers(group.id, { add: [a], remove: ['not-a-member'] });
  expect(result.version).toBe(1);
  expect(await changes(group.id)).toEqual({});
});

test('deleting a user records its removal in each of its groups; deleting a group drops its record', async () => {
  const [a, b] = await users(2, 'del');
  const one = await store.createGroup(groupDoc('One'), { displayName: 'One' }, [a, b]);
  const two = await store.createGroup(groupDoc('Two'), { displayName: 'Two' }, [a]);
  await store.deleteUser(a);
  expect((await changes(one.id))[a]).toBe('2');
  expect((await changes(two.id))[a]).toBe('2');

  await store.deleteGroup(one.id);
  expect(await redis.exists(keys.memberChanges(one.id))).toBe(0);
});

test('settling removes the changes read with their stamp and keeps a newer one; the applied hash follows', async () => {
  const [a, b] = await users(2, 'settle');
  const group = await store.createGroup(groupDoc('Settle'), { displayName: 'Settle' }, [a, b]);
  const page = await store.scanMemberChanges(group.id, '0', 100);
  expect(page.cursor).toBe('0');
  // b changes again after the reconciler read its entry: the new entry must survive the settle.
  await store.changeMembers(group.id, { remove: [b] });
  await store.settleMembers(group.id, { set: [[a, 'coder-a']], unset: [], settled: page.items });
  expect(await changes(group.id)).toEqual({ [b]: '2' });
  expect(await redis.hgetall(keys.appliedMembers(group.id))).toEqual({ [a]: 'coder-a' });

  const states = await store.memberStates<unknown>(group.id, [a, b]);
  expect(states).toEqual([
    { userId: a, member: true, appliedCoderId: 'coder-a', user: null },
    { userId: b, member: false, appliedCoderId: null, user: null },
  ]);

  await store.settleMembers(group.id, { set: [], unset: [a], settled: [[b, '2']] });
  expect(await changes(group.id)).toEqual({});
  expect(await redis.exists(keys.appliedMembers(group.id))).toBe(0);
});

test('marked members get an entry only if they have none; a full replace of the applied members is atomic', async () => {
  const [a, b] = await users(2, 'wait');
  const group = await store.createGroup(groupDoc('Wait'), { displayName: 'Wait' }, [a]);
  await store.markMembersChanged(group.id, [a, b]);
  expect(await changes(group.id)).toEqual({ [a]: '1', [b]: 'marked' });

  await store.replaceAppliedMembers(group.id, [[a, 'coder-a'], [b, 'coder-b']]);
  expect(await redis.hgetall(keys.appliedMembers(group.id))).toEqual({ [a]: 'coder-a', [b]: 'coder-b' });
  expect(await redis.exists(keys.appliedMembersDraft(group.id))).toBe(0);
  expect((await store.appliedMemberCoderIds(group.id)).sort()).toEqual(['coder-a', 'coder-b']);
  await store.replaceAppliedMembers(group.id, []);
  expect(await redis.exists(keys.appliedMembers(group.id))).toBe(0);

  await store.replaceAppliedMembers(group.id, [[a, 'coder-a']]);
  await store.deleteSync('group', group.id);
  expect(await redis.exists(keys.appliedMembers(group.id))).toBe(0);
});

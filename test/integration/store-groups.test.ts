import type { StoredResource } from '../../src/model/resource';
import { expectConsistent, groupDoc, openTestStore, userDoc } from './store-fixtures';
import { deleteTestKeys } from '../redis';

const t = openTestStore();
const { store } = t;

afterAll(async () => {
  await deleteTestKeys(t.redis, t.prefix);
  t.redis.disconnect();
});

async function users(count: number, label: string): Promise<string[]> {
  const created = await Promise.all(
    Array.from({ length: count }, (_, i) => store.createUser(userDoc(`${label}-${i}`), { userName: `${label}-${i}`, emails: [] })),
  );
  return created.map((u) => u.id);
}

const sorted = (ids: string[]) => [...ids].sort();

describe('RedisStore groups', () => {
  test('create with members adds existing users, ignores unknown ids, and indexes displayName and externalId', async () => {
    const [u1, u2] = await users(2, 'create');
    const group = await store.createGroup(groupDoc('Engineers'), { displayName: 'Engineers', externalId: 'okta-eng' }, [u1, 'ghost', u2, u1]);
    expect(group.version).toBe(1);
    expect(group.ignored).toEqual(['ghost']);
    expect(sorted(await store.memberIds(group.id))).toEqual(sorted([u1, u2]));
    expect(await store.userGroupIds(u1)).toEqual([group.id]);
    expect(await store.isMember(group.id, u2)).toBe(true);
    expect(await store.isMember(group.id, 'ghost')).toBe(false);
    expect(await store.findGroups('displayName', 'engineers')).toEqual([group.id]);
    expect(await store.findGroups('externalId', 'okta-eng')).toEqual([group.id]);
    expect(await store.getGroup(group.id)).toEqual({ kind: 'group', id: group.id, version: 1, created: group.created, lastModified: group.lastModified, doc: group.doc });
    await expectConsistent(t);
  });

  test('rename moves the displayName and externalId index entries', async () => {
    const group = await store.createGroup(groupDoc('Old Name'), { displayName: 'Old Name', externalId: 'e-old' }, []);
    const renamed = await store.updateGroup(group.id, (c: StoredResource) => ({
      doc: { ...c.doc, displayName: 'New Name' },
      fields: { displayName: 'New Name', externalId: 'e-new' },
    }));
    expect(renamed.version).toBe(2);
    expect(await store.findGroups('displayName', 'old name')).toEqual([]);
    expect(await store.findGroups('displayName', 'NEW NAME')).toEqual([group.id]);
    expect(await store.findGroups('externalId', 'e-old')).toEqual([]);
    expect(await store.findGroups('externalId', 'e-new')).toEqual([group.id]);
    await expect(store.updateGroup('missing', (c) => ({ doc: c.doc, fields: { displayName: 'x' } }))).rejects.toMatchObject({ code: 'not_found' });
    await expectConsistent(t);
  });

  test('add, remove and replace keep member and reverse sets in step and bump the version only on change', async () => {
    const [a, b, c, d] = await users(4, 'members');
    const group = await store.createGroup(groupDoc('Members'), { displayName: 'Members' }, [a]);

    const added = await store.changeMembers(group.id, { add: [b, c, 'nobody'] });
    expect(added).toMatchObject({ version: 2, ignored: ['nobody'] });
    expect(sorted(await store.memberIds(group.id))).toEqual(sorted([a, b, c]));

    const unchanged = await store.changeMembers(group.id, { add: [b], remove: ['not-a-member'] });
    expect(unchanged).toEqual({ version: 2, lastModified: added.lastModified, ignored: [] });

    const removed = await store.changeMembers(group.id, { remove: [a] });
    expect(removed.version).toBe(3);
    expect(await store.userGroupIds(a)).toEqual([]);

    const replaced = await store.changeMembers(group.id, { replace: [c, d, 'ghost'] });
    expect(replaced).toMatchObject({ version: 4, ignored: ['ghost'] });
    expect(sorted(await store.memberIds(group.id))).toEqual(sorted([c, d]));
    expect(await store.userGroupIds(b)).toEqual([]);
    expect(await store.userGroupIds(d)).toEqual([group.id]);
    expect((await store.pending()).find((p) => p.id === group.id)?.version).toBe(4);

    const emptied = await store.changeMembers(group.id, { replace: [] });
    expect(emptied.version).toBe(5);
    expect(await store.memberIds(group.id)).toEqual([]);
    await expect(store.changeMembers('missing', { add: [a] })).rejects.toMatchObject({ code: 'not_found' });
    await expect(store.changeMembers('missing', { replace: [a] })).rejects.toMatchObject({ code: 'not_found' });
    await expectConsistent(t);
  });

  test('deleting a user removes it from each of its groups, bumping and marking each group pending', async () => {
    const [stay, leave] = await users(2, 'userdel');
    const g1 = await store.createGroup(groupDoc('UD1'), { displayName: 'UD1' }, [stay, leave]);
    const g2 = await store.createGroup(groupDoc('UD2'), { displayName: 'UD2' }, [leave]);
    const result = await store.deleteUser(leave);
    expect(result.deleted).toBe(true);
    expect(sorted(result.groupIds)).toEqual(sorted([g1.id, g2.id]));
    expect(await store.memberIds(g1.id)).toEqual([stay]);
    expect(await store.memberIds(g2.id)).toEqual([]);
    expect((await store.getGroup(g1.id))?.version).toBe(2);
    const pending = await store.pending();
    expect(pending.find((p) => p.id === g1.id)?.version).toBe(2);
    expect(pending.find((p) => p.id === g2.id)?.version).toBe(2);
    await expectConsistent(t);
  });

  test('deleting a group removes its members reverse entries and index entries, keeps its sync record', async () => {
    const [m1, m2] = await users(2, 'groupdel');
    const keep = await store.createGroup(groupDoc('Keep'), { displayName: 'Keep' }, [m1]);
    const doomed = await store.createGroup(groupDoc('Doomed'), { displayName: 'Doomed', externalId: 'd1' }, [m1, m2]);
    await store.setSync('group', doomed.id, { applied: { coderId: 'cg' } });
    expect(await store.deleteGroup(doomed.id)).toBe(true);
    expect(await store.deleteGroup(doomed.id)).toBe(false);
    expect(await store.getGroup(doomed.id)).toBeNull();
    expect(await store.userGroupIds(m1)).toEqual([keep.id]);
    expect(await store.userGroupIds(m2)).toEqual([]);
    expect(await store.findGroups('displayName', 'doomed')).toEqual([]);
    expect(await store.findGroups('externalId', 'd1')).toEqual([]);
    expect(await store.getSync('group', doomed.id)).toEqual({ applied: { coderId: 'cg' } });
    expect((await store.pending()).find((p) => p.id === doomed.id)?.version).toBe(2);
    await expectConsistent(t);
  });

  test('getGroups and listGroups', async () => {
    const local = await Promise.all([store.createGroup(groupDoc('L1'), { displayName: 'L1' }, []), store.createGroup(groupDoc('L2'), { displayName: 'L2' }, [])]);
    expect(await store.getGroups([local[1].id, 'x', local[0].id])).toEqual([
      expect.objectContaining({ id: local[1].id }),
      null,
      expect.objectContaining({ id: local[0].id }),
    ]);
    const page = await store.listGroups(0, 1000);
    expect(page.total).toBe(page.ids.length);
    expect(page.ids).toEqual(expect.arrayContaining(local.map((g) => g.id)));
  });
});

describe('RedisStore member display names', () => {
  const displaysOf = (groupId: string, ids: string[]) => store.memberDisplays(groupId, ids);

  test('create records display names for members only, not for ignored ids', async () => {
    const [a, b] = await users(2, 'disp-create');
    const group = await store.createGroup(groupDoc('DispCreate'), { displayName: 'DispCreate' }, [a, b, 'ghost'], { [a]: 'Ann', ghost: 'Ghost' });
    expect(await displaysOf(group.id, [a, b, 'ghost'])).toEqual(['Ann', null, null]);
    await expectConsistent(t);
  });

  test('remove drops the removed member\'s display name; re-adding without one shows none', async () => {
    const [a, b] = await users(2, 'disp-remove');
    const group = await store.createGroup(groupDoc('DispRemove'), { displayName: 'DispRemove' }, []);
    await store.changeMembers(group.id, { add: [a, b, 'ghost'], displays: { [a]: 'Ann', [b]: 'Bea', ghost: 'Ghost' } });
    expect(await displaysOf(group.id, [a, b, 'ghost'])).toEqual(['Ann', 'Bea', null]);
    await store.changeMembers(group.id, { remove: [a] });
    expect(await t.redis.hkeys(t.keys.memberDisplays(group.id))).toEqual([b]);
    await expectConsistent(t);
    await store.changeMembers(group.id, { add: [a] });
    expect(await displaysOf(group.id, [a, b])).toEqual([null, 'Bea']);
  });

  test('a display name left for a non-member by an earlier version does not resurface when that member is added', async () => {
    const [a] = await users(1, 'disp-legacy');
    const group = await store.createGroup(groupDoc('DispLegacy'), { displayName: 'DispLegacy' }, []);
    await t.redis.hset(t.keys.memberDisplays(group.id), a, 'Stale');
    await store.changeMembers(group.id, { add: [a] });
    expect(await displaysOf(group.id, [a])).toEqual([null]);
    await expectConsistent(t);
  });

  test('an id both added and removed in one change gets no display name', async () => {
    const [a] = await users(1, 'disp-both');
    const group = await store.createGroup(groupDoc('DispBoth'), { displayName: 'DispBoth' }, []);
    await store.changeMembers(group.id, { add: [a], remove: [a], displays: { [a]: 'Ann' } });
    expect(await t.redis.exists(t.keys.memberDisplays(group.id))).toBe(0);
    await expectConsistent(t);
  });

  test('replace keeps exactly the display names sent with the replacement', async () => {
    const [a, b, c] = await users(3, 'disp-replace');
    const group = await store.createGroup(groupDoc('DispReplace'), { displayName: 'DispReplace' }, [a, b], { [a]: 'Ann', [b]: 'Bea' });
    await store.changeMembers(group.id, { replace: [b, c], displays: { [c]: 'Cid' } });
    expect(await displaysOf(group.id, [a, b, c])).toEqual([null, null, 'Cid']);
    expect(await t.redis.hkeys(t.keys.memberDisplays(group.id))).toEqual([c]);
    await expectConsistent(t);
  });

  test('deleting a user drops its display name in every group; deleting a group drops them all', async () => {
    const [stay, leave] = await users(2, 'disp-userdel');
    const g1 = await store.createGroup(groupDoc('DispUD1'), { displayName: 'DispUD1' }, [stay, leave], { [stay]: 'Stay', [leave]: 'Leave' });
    const g2 = await store.createGroup(groupDoc('DispUD2'), { displayName: 'DispUD2' }, [leave], { [leave]: 'Leave' });
    await store.deleteUser(leave);
    expect(await t.redis.hkeys(t.keys.memberDisplays(g1.id))).toEqual([stay]);
    expect(await t.redis.exists(t.keys.memberDisplays(g2.id))).toBe(0);
    await expectConsistent(t);
    await store.deleteGroup(g1.id);
    expect(await t.redis.exists(t.keys.memberDisplays(g1.id))).toBe(0);
    await expectConsistent(t);
  });
});

describe('RedisStore membership concurrency', () => {
  test('100 concurrent changeMembers adding distinct members end with 100 members', async () => {
    const ids = await users(100, 'conc');
    const group = await store.createGroup(groupDoc('Concurrent'), { displayName: 'Concurrent' }, []);
    const results = await Promise.all(ids.map((id) => store.changeMembers(group.id, { add: [id] })));
    expect(sorted(await store.memberIds(group.id))).toEqual(sorted(ids));
    expect(sorted(results.map((r) => String(r.version)))).toEqual(sorted(ids.map((_, i) => String(i + 2))));
    await expectConsistent(t);
  });

  test('concurrent replace, add and user delete on one group converge to a consistent state', async () => {
    const ids = await users(30, 'mix');
    const group = await store.createGroup(groupDoc('Mixed'), { displayName: 'Mixed' }, ids.slice(0, 10));
    await Promise.all([
      store.changeMembers(group.id, { replace: ids.slice(5, 20) }),
      store.changeMembers(group.id, { add: ids.slice(20, 25) }),
      store.changeMembers(group.id, { remove: ids.slice(0, 3) }),
      ...ids.slice(8, 12).map((id) => store.deleteUser(id)),
      store.changeMembers(group.id, { replace: ids.slice(15, 30) }),
    ]);
    await expectConsistent(t);
  });
});

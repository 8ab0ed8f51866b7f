import { CoderNetworkError } from '../../src/coder/errors';
import { MEMBERS_PER_PATCH } from '../../src/reconcile/group-reconciler';
import type { AppliedGroupState, AppliedUserState } from '../../src/reconcile/plan';
import { StoreError } from '../../src/store/types';
import { seedProvisionedUsers, type SeededUser } from './large-group-seed';
import { callsDuring, openReconcileHarness, type ReconcileHarness } from './reconcile-harness';

/**
 * Issue 13: a group of 20,000 members against the Coder simulator. A one-member change costs one PATCH and reads
 * nothing of the group's size; every way Coder or the process can disagree with the record still converges to
 * exactly the desired members. The tests run in order on one group.
 */

const SIZE = 20_000;
const PATCH = 'PATCH /api/v2/groups/{group}';
const GET = 'GET /api/v2/groups/{group}';

let h: ReconcileHarness;
let users: SeededUser[];
let groupId: string;

jest.setTimeout(60_000);

beforeAll(async () => {
  h = await openReconcileHarness();
  users = await seedProvisionedUsers(h.store, h.sim, SIZE + 10, 'big');
  groupId = (await h.addGroup('Everyone Else', users.slice(0, SIZE).map((user) => user.id))).doc.id;
});

afterAll(async () => {
  await h.close();
});

afterEach(() => {
  jest.restoreAllMocks();
});

const counting = (action: () => Promise<unknown>) => callsDuring(h.sim, action);
const reconcile = () => h.groups.reconcile(groupId);
const spare = (i: number) => users[SIZE + i];

async function coderGroupId(): Promise<string> {
  return (await h.store.getSync<AppliedGroupState>('group', groupId))!.applied!.coderId;
}

function sorted(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

/** The ids one side has and the other lacks: both empty when the sets are equal (cheaper than a deep toEqual). */
function difference(actual: Iterable<string>, expected: Iterable<string>): { missing: string[]; extra: string[] } {
  const [have, want] = [new Set(actual), new Set(expected)];
  return { missing: [...want].filter((id) => !have.has(id)), extra: [...have].filter((id) => !want.has(id)) };
}

const SAME = { missing: [], extra: [] };

/**
 * Coder holds exactly the desired members that are in Coder, the applied hash records exactly those, and every
 * change is settled but those of members still waiting for their user.
 */
async function expectExact(waiting: string[] = []): Promise<void> {
  const memberIds = await h.store.memberIds(groupId);
  const syncs = await h.store.getSyncs<AppliedUserState>('user', memberIds);
  const desired = syncs.flatMap((sync) => (sync?.applied?.orgMember && !sync.deleted ? [sync.applied.coderId] : []));
  const sync = await h.store.getSync<AppliedGroupState>('group', groupId);
  expect(sync?.lastError).toBeUndefined();
  expect(sync?.applied?.membersTracked).toBe(true);
  const coderGroup = h.sim.groups().find((group) => group.id === sync!.applied!.coderId);
  expect(coderGroup).toBeDefined();
  expect(coderGroup!.members.size).toBe(desired.length);
  expect(difference(coderGroup!.members, desired)).toEqual(SAME);
  const applied = await h.store.appliedMemberCoderIds(groupId);
  expect(applied).toHaveLength(desired.length);
  expect(difference(applied, desired)).toEqual(SAME);
  expect(sorted(await h.redis.hkeys(h.keys.memberChanges(groupId)))).toEqual(sorted(waiting));
}

/** The reconcile must not read the group whole: no member scan, no bulk sync read. */
function forbidFullReads(): void {
  jest.spyOn(h.store, 'scanMembers').mockRejectedValue(new Error('a one-member change read the whole member set'));
  jest.spyOn(h.store, 'getSyncs').mockRejectedValue(new Error('a one-member change read sync statuses in bulk'));
}

test('20,000 members added at once: batched PATCHes under the per-PATCH limit, then exact', async () => {
  const calls = await counting(reconcile);
  expect(calls).toEqual({ 'POST /api/v2/organizations/{org}/groups': 1, [PATCH]: Math.ceil(SIZE / MEMBERS_PER_PATCH) });
  await expectExact();
});

test('one member added: one PATCH, nothing read of the group size', async () => {
  await h.store.changeMembers(groupId, { add: [spare(0).id] });
  forbidFullReads();
  expect(await counting(reconcile)).toEqual({ [PATCH]: 1 });
  jest.restoreAllMocks();
  await expectExact();
  expect(h.sim.groups().find((g) => g.name === 'Everyone-Else')?.members.has(spare(0).coderId)).toBe(true);
});

test('one member removed: one PATCH', async () => {
  await h.store.changeMembers(groupId, { remove: [users[7].id] });
  forbidFullReads();
  expect(await counting(reconcile)).toEqual({ [PATCH]: 1 });
  jest.restoreAllMocks();
  await expectExact();
  expect(h.sim.groups().find((g) => g.name === 'Everyone-Else')?.members.has(users[7].coderId)).toBe(false);
});

test('a rename and a member change travel in one PATCH', async () => {
  await h.store.updateGroup(groupId, (current) => ({ doc: { ...current.doc, displayName: 'Everyone Else Renamed' }, fields: { displayName: 'Everyone Else Renamed' } }));
  await h.store.changeMembers(groupId, { add: [spare(1).id] });
  forbidFullReads();
  expect(await counting(reconcile)).toEqual({ [PATCH]: 1 });
  jest.restoreAllMocks();
  const coderId = await coderGroupId();
  expect(h.sim.groups().find((g) => g.id === coderId)).toMatchObject({ name: 'Everyone-Else-Renamed', display_name: 'Everyone Else Renamed' });
  await expectExact();
});

test('a duplicate add (Coder 400, whole PATCH rolled back) is recovered from Coder real members', async () => {
  const coderId = await coderGroupId();
  h.sim.direct.addGroupMember(coderId, spare(2).coderId);
  await h.store.changeMembers(groupId, { add: [spare(2).id, spare(3).id] });
  const calls = await counting(reconcile);
  // The rejected PATCH, one read of the group, one PATCH that adds only what Coder lacks.
  expect(calls).toEqual({ [PATCH]: 2, [GET]: 1 });
  await expectExact();
  expect(await counting(reconcile)).toEqual({});
});

test('a member whose user is not in Coder yet waits, and joins with one PATCH when the user lands', async () => {
  const late = await h.addUser('late-joiner');
  await h.store.changeMembers(groupId, { add: [late.doc.id] });
  expect(await counting(reconcile)).toEqual({});
  await expectExact([late.doc.id]);

  h.queue.take();
  await h.users.reconcile(late.doc.id);
  expect(h.queue.take()).toEqual([{ kind: 'group', id: groupId }]);
  forbidFullReads();
  expect(await counting(reconcile)).toEqual({ [PATCH]: 1 });
  jest.restoreAllMocks();
  await expectExact();
});

test('a removed user (suspend policy) leaves the group in one PATCH, whichever reconcile runs first', async () => {
  const [first, second] = [users[11], users[12]];
  await h.store.deleteUser(first.id);
  await h.store.deleteUser(second.id);
  await h.users.reconcile(second.id);
  forbidFullReads();
  expect(await counting(reconcile)).toEqual({ [PATCH]: 1 });
  jest.restoreAllMocks();
  await h.users.reconcile(first.id);
  await expectExact();
  const coderMembers = h.sim.groups().find((g) => g.name === 'Everyone-Else-Renamed')!.members;
  expect(coderMembers.has(first.coderId) || coderMembers.has(second.coderId)).toBe(false);
});

test('a removed user deleted from Coder first (delete policy) needs no group call at all', async () => {
  const gone = users[13];
  await h.store.deleteUser(gone.id);
  await h.usersWithPolicy('delete').reconcile(gone.id);
  expect(h.sim.users().some((u) => u.id === gone.coderId)).toBe(false);
  expect(await counting(reconcile)).toEqual({});
  await expectExact();
});

test('a crash between the membership write and the Coder call: the change is applied by the next run', async () => {
  await h.store.changeMembers(groupId, { add: [spare(4).id] });
  jest.spyOn(h.coder, 'patchGroup').mockRejectedValueOnce(new CoderNetworkError({ method: 'PATCH', route: PATCH }, 'connection reset', false));
  await expect(reconcile()).rejects.toBeInstanceOf(CoderNetworkError);
  jest.restoreAllMocks();
  expect(await counting(reconcile)).toEqual({ [PATCH]: 1 });
  await expectExact();
});

test('a crash between the Coder call and its record: the repeated add is recovered exactly', async () => {
  await h.store.changeMembers(groupId, { add: [spare(5).id], remove: [users[20].id] });
  jest.spyOn(h.store, 'settleMembers').mockRejectedValueOnce(new StoreError('unavailable', 'Redis went away'));
  await expect(reconcile()).rejects.toBeInstanceOf(StoreError);
  jest.restoreAllMocks();
  // Coder has the change but the record does not: the add comes back as a duplicate, and the group is diffed whole.
  expect(await counting(reconcile)).toEqual({ [PATCH]: 1, [GET]: 1 });
  await expectExact();
});

test('a record written by the previous version (members as one JSON list) is migrated by one full diff', async () => {
  const sync = (await h.store.getSync<AppliedGroupState>('group', groupId))!;
  const coderIds = await h.store.appliedMemberCoderIds(groupId);
  const { membersTracked: _tracked, ...legacy } = sync.applied!;
  await h.store.setSync('group', groupId, { ...sync, applied: { ...legacy, memberCoderIds: coderIds } });
  await h.redis.del(h.keys.appliedMembers(groupId));
  await h.store.changeMembers(groupId, { add: [spare(6).id] });
  expect(await counting(reconcile)).toEqual({ [GET]: 1, [PATCH]: 1 });
  await expectExact();
  await h.store.changeMembers(groupId, { add: [spare(7).id] });
  forbidFullReads();
  expect(await counting(reconcile)).toEqual({ [PATCH]: 1 });
});

test('the group deleted in Coder meanwhile is created again with all its members', async () => {
  const before = await coderGroupId();
  h.sim.direct.deleteGroup(before);
  await h.store.changeMembers(groupId, { add: [spare(8).id] });
  const calls = await counting(reconcile);
  expect(calls).toMatchObject({ 'POST /api/v2/organizations/{org}/groups': 1 });
  expect(calls[PATCH]).toBe(1 + Math.ceil(((await h.store.memberIds(groupId)).length) / MEMBERS_PER_PATCH));
  expect(await coderGroupId()).not.toBe(before);
  await expectExact();
});

test('the group deleted in SCIM is deleted in Coder, and its applied members with it', async () => {
  const coderId = await coderGroupId();
  await h.store.deleteGroup(groupId);
  expect(await counting(reconcile)).toEqual({ 'DELETE /api/v2/groups/{group}': 1 });
  expect(h.sim.groups().some((g) => g.id === coderId)).toBe(false);
  expect(await h.store.getSync('group', groupId)).toBeNull();
  expect(await h.redis.exists(h.keys.appliedMembers(groupId), h.keys.memberChanges(groupId))).toBe(0);
});

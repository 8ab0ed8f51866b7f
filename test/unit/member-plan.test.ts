import { emptyMemberPlan, memberBatches, planMemberChanges } from '../../src/reconcile/member-plan';
import type { AppliedUserState } from '../../src/reconcile/plan';
import type { MemberState } from '../../src/store/types';
import type { SyncStatus } from '../../src/model/sync';

function landed(coderId: string, extra: Partial<SyncStatus<AppliedUserState>> = {}): SyncStatus<AppliedUserState> {
  return { applied: { coderId, username: coderId, email: `${coderId}@x.io`, name: '', status: 'active', orgMember: true }, ...extra };
}

function state(userId: string, member: boolean, appliedCoderId: string | null, user: SyncStatus<AppliedUserState> | null): MemberState<AppliedUserState> {
  return { userId, member, appliedCoderId, user };
}

const plan = (...states: MemberState<AppliedUserState>[]) => planMemberChanges(emptyMemberPlan(), states.map((s, i) => ({ state: s, stamp: String(i + 1) })));

test('a member that joined is added under its Coder id and recorded', () => {
  expect(plan(state('u1', true, null, landed('c1')))).toEqual({ add_users: ['c1'], remove_users: [], set: [['u1', 'c1']], unset: [], settled: [['u1', '1']] });
});

test('a member that left is removed under the Coder id applied for it', () => {
  expect(plan(state('u1', false, 'c1', landed('c1')))).toEqual({ add_users: [], remove_users: ['c1'], set: [], unset: ['u1'], settled: [['u1', '1']] });
});

test('a change Coder already reflects costs no call (added then removed before the reconcile, or applied twice)', () => {
  expect(plan(state('u1', false, null, landed('c1')), state('u2', true, 'c2', landed('c2')))).toEqual({
    add_users: [],
    remove_users: [],
    set: [],
    unset: [],
    settled: [
      ['u1', '1'],
      ['u2', '2'],
    ],
  });
});

test('a member whose user is not in Coder (or not in the organization) waits: its change is not settled', () => {
  const notInOrg = landed('c2');
  notInOrg.applied!.orgMember = false;
  expect(plan(state('u1', true, null, null), state('u2', true, null, notInOrg))).toEqual(emptyMemberPlan());
});

test('a removed member whose user was deleted from Coder (no sync status left) needs no call: Coder dropped it', () => {
  expect(plan(state('u1', false, 'c1', null))).toEqual({ add_users: [], remove_users: [], set: [], unset: ['u1'], settled: [['u1', '1']] });
});

test('a member deleted in SCIM but still in Coder (tombstone) is removed', () => {
  expect(plan(state('u1', false, 'c1', landed('c1', { deleted: true }))).remove_users).toEqual(['c1']);
});

test('a member re-created in Coder under a new id: the old id goes, the new one comes', () => {
  expect(plan(state('u1', true, 'c-old', landed('c-new')))).toEqual({
    add_users: ['c-new'],
    remove_users: ['c-old'],
    set: [['u1', 'c-new']],
    unset: [],
    settled: [['u1', '1']],
  });
});

test('batches: at most `size` ids per PATCH, adds first, every id exactly once', () => {
  const add = Array.from({ length: 5 }, (_, i) => `a${i}`);
  const remove = Array.from({ length: 4 }, (_, i) => `r${i}`);
  const batches = memberBatches(add, remove, 4);
  expect(batches).toEqual([
    { add_users: ['a0', 'a1', 'a2', 'a3'], remove_users: [] },
    { add_users: ['a4'], remove_users: ['r0', 'r1', 'r2'] },
    { add_users: [], remove_users: ['r3'] },
  ]);
  expect(memberBatches([], [], 4)).toEqual([]);
});

test('in a group the policy placed in another organization, a member is added once its user is recorded in that one', () => {
  const joined = landed('c1', { applied: { ...landed('c1').applied!, access: { granted: { siteRoles: [], organizations: {} }, desired: { siteRoles: [], organizations: {} }, organizationIds: ['org-2'] } } });
  const onlyBase = landed('c2');
  const changes = [state('u1', true, null, joined), state('u2', true, null, onlyBase)].map((s, i) => ({ state: s, stamp: String(i + 1) }));
  // u2 is in the base organization only: it waits (its change stays) until its user joins org-2.
  expect(planMemberChanges(emptyMemberPlan(), changes, 'org-2')).toEqual({ add_users: ['c1'], remove_users: [], set: [['u1', 'c1']], unset: [], settled: [['u1', '1']] });
  // The base organization goes by the user's own membership, as before.
  expect(planMemberChanges(emptyMemberPlan(), changes).add_users).toEqual(['c1', 'c2']);
});

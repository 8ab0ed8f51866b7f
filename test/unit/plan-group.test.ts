import fc from 'fast-check';
import { planGroup, type AppliedGroupState, type DesiredGroupState, type GroupOperation, type PlanContext } from '../../src/reconcile/plan';

const ctx: PlanContext = { deletePolicy: 'suspend', loginType: 'oidc', orgId: 'org-1' };
const desired: DesiredGroupState = { name: 'Engineering', displayName: 'Engineering', memberCoderIds: ['u1', 'u2'] };
const applied: AppliedGroupState = { coderId: 'g1', name: 'Engineering', displayName: 'Engineering', memberCoderIds: ['u1', 'u2'], mappedName: 'Engineering' };

/** A model of the Coder group after the operations succeed, recorded the way the reconciler records it. */
function applyEffect(state: AppliedGroupState | undefined, operations: GroupOperation[], want: DesiredGroupState | null): AppliedGroupState | undefined {
  let next = state && { ...state };
  for (const operation of operations) {
    switch (operation.op) {
      case 'createGroup':
        next = { coderId: 'new-group', name: operation.name, displayName: operation.display_name, memberCoderIds: [] };
        break;
      case 'patchGroup': {
        const members = new Set(next!.memberCoderIds);
        operation.add_users.forEach((id) => members.add(id));
        operation.remove_users.forEach((id) => members.delete(id));
        next = { ...next!, name: operation.name ?? next!.name, displayName: operation.display_name ?? next!.displayName, memberCoderIds: [...members] };
        break;
      }
      case 'deleteGroup':
        next = undefined;
        break;
    }
  }
  return next && want ? { ...next, mappedName: want.name } : next;
}

describe('planGroup transitions', () => {
  test('new group without members: one create in the org', () => {
    expect(planGroup({ ...desired, memberCoderIds: [] }, undefined, ctx)).toEqual([{ op: 'createGroup', orgId: 'org-1', name: 'Engineering', display_name: 'Engineering' }]);
  });

  test('new group with members: create, then one PATCH adding them all', () => {
    expect(planGroup(desired, undefined, ctx)).toEqual([
      { op: 'createGroup', orgId: 'org-1', name: 'Engineering', display_name: 'Engineering' },
      { op: 'patchGroup', add_users: ['u1', 'u2'], remove_users: [] },
    ]);
  });

  test('nothing changed: nothing to do, whatever the member order', () => {
    expect(planGroup({ ...desired, memberCoderIds: ['u2', 'u1'] }, applied, ctx)).toEqual([]);
  });

  test('member added', () => {
    expect(planGroup({ ...desired, memberCoderIds: ['u1', 'u2', 'u3'] }, applied, ctx)).toEqual([{ op: 'patchGroup', add_users: ['u3'], remove_users: [] }]);
  });

  test('member removed', () => {
    expect(planGroup({ ...desired, memberCoderIds: ['u2'] }, applied, ctx)).toEqual([{ op: 'patchGroup', add_users: [], remove_users: ['u1'] }]);
  });

  test('adds and removes travel in one PATCH', () => {
    expect(planGroup({ ...desired, memberCoderIds: ['u2', 'u3', 'u4'] }, applied, ctx)).toEqual([
      { op: 'patchGroup', add_users: ['u3', 'u4'], remove_users: ['u1'] },
    ]);
  });

  test('duplicate desired members are added once', () => {
    expect(planGroup({ ...desired, memberCoderIds: ['u1', 'u2', 'u3', 'u3'] }, applied, ctx)).toEqual([{ op: 'patchGroup', add_users: ['u3'], remove_users: [] }]);
  });

  test('renamed: name and display name in the same PATCH as members', () => {
    expect(planGroup({ name: 'Platform', displayName: 'Platform Team', memberCoderIds: ['u1'] }, applied, ctx)).toEqual([
      { op: 'patchGroup', name: 'Platform', display_name: 'Platform Team', add_users: [], remove_users: ['u2'] },
    ]);
  });

  test('display name only', () => {
    expect(planGroup({ ...desired, displayName: 'Eng' }, applied, ctx)).toEqual([{ op: 'patchGroup', display_name: 'Eng', add_users: [], remove_users: [] }]);
  });

  test('a clash-suffixed name is stable while the display name maps to the same name', () => {
    expect(planGroup(desired, { ...applied, name: 'Engineering-1', mappedName: 'Engineering' }, ctx)).toEqual([]);
  });

  test('deleted: delete when it was applied, nothing otherwise', () => {
    expect(planGroup(null, applied, ctx)).toEqual([{ op: 'deleteGroup' }]);
    expect(planGroup(null, undefined, ctx)).toEqual([]);
  });
});

const memberArb = fc.uniqueArray(fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5'), { maxLength: 5 });
const desiredArb: fc.Arbitrary<DesiredGroupState | null> = fc.option(
  fc.record({ name: fc.constantFrom('eng', 'ops'), displayName: fc.constantFrom('Eng', 'Ops'), memberCoderIds: fc.array(fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5'), { maxLength: 8 }) }),
  { nil: null },
);
const appliedArb: fc.Arbitrary<AppliedGroupState | undefined> = fc.option(
  fc.record(
    { coderId: fc.constant('g1'), name: fc.constantFrom('eng', 'ops', 'eng-1'), displayName: fc.constantFrom('Eng', 'Ops'), memberCoderIds: memberArb, mappedName: fc.constantFrom('eng', 'ops') },
    { requiredKeys: ['coderId', 'name', 'displayName', 'memberCoderIds'] },
  ),
  { nil: undefined },
);

describe('planGroup properties', () => {
  test('idempotent: after the plan takes effect, nothing is left to do', () => {
    fc.assert(
      fc.property(desiredArb, appliedArb, (want, have) => {
        const after = applyEffect(have, planGroup(want, have, ctx), want);
        expect(planGroup(want, after, ctx)).toEqual([]);
      }),
    );
  });

  test('converges to exactly the desired member set, with at most one PATCH', () => {
    fc.assert(
      fc.property(desiredArb, appliedArb, (want, have) => {
        const operations = planGroup(want, have, ctx);
        expect(operations.filter((o) => o.op === 'patchGroup').length).toBeLessThanOrEqual(1);
        const after = applyEffect(have, operations, want);
        if (!want) return expect(after).toBeUndefined();
        expect(new Set(after?.memberCoderIds)).toEqual(new Set(want.memberCoderIds));
        expect(after?.displayName).toBe(want.displayName);
      }),
    );
  });
});

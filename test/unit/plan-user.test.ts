import fc from 'fast-check';
import type { DesiredUser } from '../../src/reconcile/mapping';
import { isNote, planUser, type AppliedUserState, type PlanContext, type UserOperation } from '../../src/reconcile/plan';

const ctx: PlanContext = { deletePolicy: 'suspend', loginType: 'oidc', orgId: 'org-1' };
const desired: DesiredUser = { username: 'alice', email: 'alice@example.com', name: 'Alice Smith', suspended: false };
const applied: AppliedUserState = {
  coderId: 'coder-alice',
  username: 'alice',
  email: 'alice@example.com',
  name: 'Alice Smith',
  status: 'dormant',
  orgMember: true,
  mappedUsername: 'alice',
};

/** A model of what Coder holds after the operations succeed, recorded the way the reconciler records it. */
function applyEffect(state: AppliedUserState | undefined, operations: UserOperation[], want: DesiredUser | null): AppliedUserState | undefined {
  let next = state && { ...state };
  for (const operation of operations) {
    switch (operation.op) {
      case 'createUser': {
        const { body } = operation;
        next = { coderId: 'new-id', username: body.username, email: body.email, name: body.name ?? '', status: body.user_status ?? 'dormant', orgMember: true };
        break;
      }
      case 'addOrgMember':
        next = { ...next!, orgMember: true };
        break;
      case 'updateProfile':
        next = { ...next!, username: operation.username, name: operation.name };
        break;
      case 'suspend':
        next = { ...next!, status: 'suspended' };
        break;
      case 'activate':
        next = { ...next!, status: 'active' };
        break;
      case 'deleteUser':
        next = undefined;
        break;
      case 'emailNotAppliable':
        break;
    }
  }
  return next && want ? { ...next, mappedUsername: want.username } : next;
}

describe('planUser transitions', () => {
  test('new user: one createUser in the org with the login type', () => {
    expect(planUser(desired, undefined, ctx)).toEqual([
      {
        op: 'createUser',
        body: { email: 'alice@example.com', username: 'alice', name: 'Alice Smith', login_type: 'oidc', organization_ids: ['org-1'] },
      },
    ]);
  });

  test('new inactive user: still one call, created suspended', () => {
    const operations = planUser({ ...desired, suspended: true }, undefined, ctx);
    expect(operations).toHaveLength(1);
    expect(operations[0]).toMatchObject({ op: 'createUser', body: { user_status: 'suspended' } });
  });

  test('nothing changed: nothing to do', () => {
    expect(planUser(desired, applied, ctx)).toEqual([]);
  });

  test('changed name: one profile update keeping the username', () => {
    expect(planUser({ ...desired, name: 'Alice Jones' }, applied, ctx)).toEqual([{ op: 'updateProfile', username: 'alice', name: 'Alice Jones' }]);
  });

  test('changed username: one profile update carrying the current name', () => {
    expect(planUser({ ...desired, username: 'asmith' }, applied, ctx)).toEqual([{ op: 'updateProfile', username: 'asmith', name: 'Alice Smith' }]);
  });

  test('a clash-suffixed username is stable while the userName maps to the same name', () => {
    const suffixed = { ...applied, username: 'alice-1', mappedUsername: 'alice' };
    expect(planUser(desired, suffixed, ctx)).toEqual([]);
    expect(planUser({ ...desired, username: 'alicia' }, suffixed, ctx)).toEqual([{ op: 'updateProfile', username: 'alicia', name: 'Alice Smith' }]);
  });

  test('without a recorded mapping the applied username is the reference', () => {
    const adopted = { ...applied, username: 'asmith', mappedUsername: undefined };
    expect(planUser(desired, adopted, ctx)).toEqual([{ op: 'updateProfile', username: 'alice', name: 'Alice Smith' }]);
  });

  test('changed e-mail: a note, never a call', () => {
    const operations = planUser({ ...desired, email: 'alice@new.example.com' }, applied, ctx);
    expect(operations).toEqual([{ op: 'emailNotAppliable', from: 'alice@example.com', to: 'alice@new.example.com' }]);
    expect(operations.every(isNote)).toBe(true);
  });

  test('e-mail differing only in case is the same e-mail', () => {
    expect(planUser({ ...desired, email: 'Alice@Example.com' }, applied, ctx)).toEqual([]);
  });

  test('suspended: suspend once, then nothing', () => {
    expect(planUser({ ...desired, suspended: true }, applied, ctx)).toEqual([{ op: 'suspend' }]);
    expect(planUser({ ...desired, suspended: true }, { ...applied, status: 'suspended' }, ctx)).toEqual([]);
  });

  test('reactivated: activate only a suspended user, a dormant or active one is left alone', () => {
    expect(planUser(desired, { ...applied, status: 'suspended' }, ctx)).toEqual([{ op: 'activate' }]);
    expect(planUser(desired, { ...applied, status: 'dormant' }, ctx)).toEqual([]);
    expect(planUser(desired, { ...applied, status: 'active' }, ctx)).toEqual([]);
  });

  test('an adopted user outside the org is added to it first', () => {
    const operations = planUser({ ...desired, name: 'Alice J' }, { ...applied, orgMember: false }, ctx);
    expect(operations.map((o) => o.op)).toEqual(['addOrgMember', 'updateProfile']);
    expect(operations[0]).toEqual({ op: 'addOrgMember', orgId: 'org-1' });
  });

  test('deleted under the suspend policy: suspend unless already suspended', () => {
    expect(planUser(null, applied, ctx)).toEqual([{ op: 'suspend' }]);
    expect(planUser(null, { ...applied, status: 'suspended' }, ctx)).toEqual([]);
  });

  test('deleted under the delete policy: delete', () => {
    expect(planUser(null, applied, { ...ctx, deletePolicy: 'delete' })).toEqual([{ op: 'deleteUser' }]);
    expect(planUser(null, { ...applied, status: 'suspended' }, { ...ctx, deletePolicy: 'delete' })).toEqual([{ op: 'deleteUser' }]);
  });

  test('deleted and never applied: nothing to do', () => {
    expect(planUser(null, undefined, ctx)).toEqual([]);
    expect(planUser(null, undefined, { ...ctx, deletePolicy: 'delete' })).toEqual([]);
  });

  test('several changes at once: profile, status and note in one plan', () => {
    const operations = planUser({ username: 'alicia', email: 'x@y.io', name: 'Alicia', suspended: true }, applied, ctx);
    expect(operations.map((o) => o.op)).toEqual(['updateProfile', 'suspend', 'emailNotAppliable']);
  });
});

const desiredArb: fc.Arbitrary<DesiredUser | null> = fc.option(
  fc.record({
    username: fc.constantFrom('alice', 'alice-1', 'bob'),
    email: fc.constantFrom('alice@example.com', 'ALICE@example.com', 'bob@example.com'),
    name: fc.constantFrom('', 'Alice', 'Bob B'),
    suspended: fc.boolean(),
  }),
  { nil: null },
);

const appliedArb: fc.Arbitrary<AppliedUserState | undefined> = fc.option(
  fc.record(
    {
      coderId: fc.constant('coder-1'),
      username: fc.constantFrom('alice', 'alice-1', 'bob', 'carol'),
      email: fc.constantFrom('alice@example.com', 'bob@example.com'),
      name: fc.constantFrom('', 'Alice', 'Bob B'),
      status: fc.constantFrom('active' as const, 'dormant' as const, 'suspended' as const),
      orgMember: fc.boolean(),
      mappedUsername: fc.constantFrom('alice', 'bob'),
    },
    { requiredKeys: ['coderId', 'username', 'email', 'name', 'status', 'orgMember'] },
  ),
  { nil: undefined },
);

const ctxArb = fc.record({ deletePolicy: fc.constantFrom('suspend' as const, 'delete' as const), loginType: fc.constant('oidc' as const), orgId: fc.constant('org-1') });

describe('planUser properties', () => {
  test('idempotent: after the plan takes effect, no Coder call is left', () => {
    fc.assert(
      fc.property(desiredArb, appliedArb, ctxArb, (want, have, context) => {
        const after = applyEffect(have, planUser(want, have, context), want);
        expect(planUser(want, after, context).filter((o) => !isNote(o))).toEqual([]);
      }),
    );
  });

  test('converges: the effect matches the desired fields', () => {
    fc.assert(
      fc.property(desiredArb, appliedArb, ctxArb, (want, have, context) => {
        const after = applyEffect(have, planUser(want, have, context), want);
        if (!want) {
          if (have && context.deletePolicy === 'delete') expect(after).toBeUndefined();
          if (have && context.deletePolicy === 'suspend') expect(after?.status).toBe('suspended');
          return;
        }
        expect(after?.name).toBe(want.name);
        expect(after?.orgMember).toBe(true);
        expect(after?.status === 'suspended').toBe(want.suspended);
      }),
    );
  });

  test('at most one operation of each kind, never both suspend and activate', () => {
    fc.assert(
      fc.property(desiredArb, appliedArb, ctxArb, (want, have, context) => {
        const kinds = planUser(want, have, context).map((o) => o.op);
        expect(new Set(kinds).size).toBe(kinds.length);
        expect(kinds.includes('suspend') && kinds.includes('activate')).toBe(false);
      }),
    );
  });
});

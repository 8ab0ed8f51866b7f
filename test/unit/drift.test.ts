import type { Group, User } from '../../src/coder/types';
import { computeDrift, type CoderSnapshot, type ManagedGroup, type ManagedUser } from '../../src/reconcile/drift';
import type { AppliedGroupState, AppliedUserState, PlanContext } from '../../src/reconcile/plan';

const ORG = 'org-1';
const ctx: PlanContext = { deletePolicy: 'suspend', loginType: 'oidc', orgId: ORG };

function coderUser(id: string, username: string, overrides: Partial<User> = {}): User {
  return {
    id,
    username,
    name: `${username} name`,
    email: `${username}@example.com`,
    avatar_url: '',
    created_at: '',
    updated_at: '',
    last_seen_at: '',
    status: 'active',
    login_type: 'oidc',
    organization_ids: [ORG],
    roles: [],
    ...overrides,
  };
}

function coderGroup(id: string, name: string, members: User[], overrides: Partial<Group> = {}): Group {
  return {
    id,
    name,
    display_name: name,
    organization_id: ORG,
    members,
    total_member_count: members.length,
    avatar_url: '',
    quota_allowance: 0,
    source: 'user',
    ...overrides,
  };
}

function scimUser(id: string, userName: string, extra: Record<string, unknown> = {}) {
  return { id, userName, name: { formatted: `${userName} name` }, emails: [{ value: `${userName}@example.com`, primary: true }], active: true, ...extra };
}

function appliedFrom(user: User): AppliedUserState {
  return { coderId: user.id, username: user.username, email: user.email, name: user.name, status: user.status, orgMember: true, mappedUsername: user.username };
}

function managedUser(user: User, desired = scimUser(`scim-${user.id}`, user.username)): ManagedUser {
  return { id: desired.id, desired, sync: { applied: appliedFrom(user), appliedVersion: 1 } };
}

function managedGroup(id: string, group: Group, memberIds: string[]): ManagedGroup {
  const applied: AppliedGroupState = {
    coderId: group.id,
    name: group.name,
    displayName: group.display_name,
    memberCoderIds: group.members.map((m) => m.id),
    mappedName: group.name,
  };
  return { id, desired: { id, displayName: group.display_name }, memberIds, sync: { applied, appliedVersion: 1 } };
}

const alice = coderUser('c-alice', 'alice');
const bob = coderUser('c-bob', 'bob');
const owner = coderUser('c-owner', 'admin');
const engineering = coderGroup('c-eng', 'engineering', [alice, bob]);
const everyone = coderGroup(ORG, 'Everyone', [alice, bob, owner]);

function snapshot(overrides: Partial<CoderSnapshot> = {}): CoderSnapshot {
  return { users: [alice, bob, owner], orgMemberIds: [alice.id, bob.id, owner.id], groups: [everyone, engineering], ...overrides };
}

const managed = () => ({
  users: [managedUser(alice), managedUser(bob)],
  groups: [managedGroup('scim-eng', engineering, ['scim-c-alice', 'scim-c-bob'])],
});

describe('computeDrift', () => {
  test('Coder matching the store: nothing drifted, every managed resource checked', () => {
    const drift = computeDrift(managed(), snapshot(), ctx);
    expect(drift.checked).toBe(3);
    expect(drift.users).toEqual([]);
    expect(drift.groups).toEqual([]);
    expect(drift.unplannable).toEqual([]);
  });

  test('a user deleted in Coder: missing, planned as a create, and the group does not count it as a member', () => {
    const withoutAlice = coderGroup('c-eng', 'engineering', [bob]);
    const drift = computeDrift(managed(), snapshot({ users: [bob, owner], orgMemberIds: [bob.id, owner.id], groups: [everyone, withoutAlice] }), ctx);
    expect(drift.users).toHaveLength(1);
    expect(drift.users[0]).toMatchObject({ id: 'scim-c-alice', differences: ['missing'], real: undefined });
    expect(drift.users[0].operations.map((o) => o.op)).toEqual(['createUser']);
    // The group lost alice too, but alice has no Coder user to add yet: the group waits for its user.
    expect(drift.groups).toHaveLength(1);
    expect(drift.groups[0].differences).toEqual(['members']);
    expect(drift.groups[0].operations).toEqual([]);
  });

  test('a member removed in Coder: planned back with one PATCH', () => {
    const drift = computeDrift(managed(), snapshot({ groups: [everyone, coderGroup('c-eng', 'engineering', [alice])] }), ctx);
    expect(drift.users).toEqual([]);
    expect(drift.groups).toEqual([
      {
        kind: 'group',
        id: 'scim-eng',
        differences: ['members'],
        operations: [{ op: 'patchGroup', add_users: [bob.id], remove_users: [] }],
        real: { coderId: 'c-eng', name: 'engineering', displayName: 'engineering', memberCoderIds: [alice.id], mappedName: 'engineering' },
      },
    ]);
  });

  test('a member removed from the organization in Coder waits for its user: the group plans no add for it', () => {
    const withoutBob = coderGroup('c-eng', 'engineering', [alice]);
    const drift = computeDrift(managed(), snapshot({ orgMemberIds: [alice.id, owner.id], groups: [everyone, withoutBob] }), ctx);
    expect(drift.users.map((d) => [d.id, d.operations])).toEqual([['scim-c-bob', [{ op: 'addOrgMember', orgId: ORG }]]]);
    expect(drift.groups[0]).toMatchObject({ differences: ['members'], operations: [] });
  });

  test('a group renamed in Coder: renamed back, since the rename was not the bridge choosing a name', () => {
    const renamed = coderGroup('c-eng', 'platform', [alice, bob], { display_name: 'Platform' });
    const drift = computeDrift(managed(), snapshot({ groups: [everyone, renamed] }), ctx);
    expect(drift.groups).toHaveLength(1);
    expect(drift.groups[0].differences).toEqual(['name', 'displayName']);
    expect(drift.groups[0].operations).toEqual([{ op: 'patchGroup', name: 'engineering', display_name: 'engineering', add_users: [], remove_users: [] }]);
    expect(drift.groups[0].real?.mappedName).toBeUndefined();
  });

  test("the access policy's records survive a repair; its display name is no drift; a group it placed elsewhere is not checked here", () => {
    const policyName = coderGroup('c-eng', 'engineering', [alice], { display_name: 'Engineering (policy)' });
    const group = managedGroup('scim-eng', engineering, ['scim-c-alice', 'scim-c-bob']);
    const records = { access: { quotaAllowance: 5, templates: { t1: 'use' as const } }, accessKey: 'k', scimDisplayName: 'engineering', adopted: true };
    group.sync!.applied = { ...group.sync!.applied!, ...records, displayName: 'Engineering (policy)' };
    const placed = managedGroup('scim-lab', coderGroup('c-lab', 'lab', []), []);
    placed.sync!.applied = { ...placed.sync!.applied!, organizationId: 'org-2' };
    const drift = computeDrift({ users: managed().users, groups: [group, placed] }, snapshot({ groups: [everyone, policyName] }), ctx);
    expect(drift.checked).toBe(3);
    expect(drift.groups).toHaveLength(1);
    expect(drift.groups[0]).toMatchObject({ differences: ['members'], operations: [{ op: 'patchGroup', add_users: [bob.id], remove_users: [] }], real: records });
  });

  test('a clash-suffixed username that Coder still holds is not drift', () => {
    const aliceOne = coderUser('c-alice1', 'alice-1', { name: 'alice name', email: 'alice@example.com' });
    const user: ManagedUser = {
      id: 'scim-a1',
      desired: scimUser('scim-a1', 'alice'),
      sync: { applied: { ...appliedFrom(aliceOne), mappedUsername: 'alice' } },
    };
    const drift = computeDrift({ users: [user], groups: [] }, snapshot({ users: [aliceOne], orgMemberIds: [aliceOne.id] }), ctx);
    expect(drift.users).toEqual([]);
  });

  test('a user renamed, suspended and removed from the org in Coder: every difference reported and planned back', () => {
    const changed = coderUser('c-alice', 'alice-renamed', { status: 'suspended', name: 'Someone Else', email: 'alice@example.com' });
    const drift = computeDrift(managed(), snapshot({ users: [changed, bob, owner], orgMemberIds: [bob.id, owner.id] }), ctx);
    const aliceDrift = drift.users.find((d) => d.id === 'scim-c-alice');
    expect(aliceDrift?.differences).toEqual(['username', 'name', 'status', 'orgMember']);
    expect(aliceDrift?.operations).toEqual([
      { op: 'addOrgMember', orgId: ORG },
      { op: 'updateProfile', username: 'alice', name: 'alice name' },
      { op: 'activate' },
    ]);
  });

  test('a dormant user is not drift: Coder makes users dormant on its own', () => {
    const dormant = coderUser('c-alice', 'alice', { status: 'dormant' });
    const drift = computeDrift(managed(), snapshot({ users: [dormant, bob, owner] }), ctx);
    expect(drift.users).toEqual([]);
  });

  test('an e-mail changed only in the store is a standing note, not drift', () => {
    const users = managed().users;
    users[0] = { ...users[0], desired: scimUser('scim-c-alice', 'alice', { emails: [{ value: 'new@example.com', primary: true }] }) };
    const drift = computeDrift({ users, groups: [] }, snapshot(), ctx);
    expect(drift.users).toEqual([]);
  });

  test('a desired change never applied (a lost job) is drift with the pending operations', () => {
    const users = managed().users;
    users[1] = { ...users[1], desired: scimUser('scim-c-bob', 'bob', { active: false }) };
    const drift = computeDrift({ users, groups: [] }, snapshot(), ctx);
    expect(drift.users).toEqual([{ kind: 'user', id: 'scim-c-bob', differences: [], operations: [{ op: 'suspend' }], real: expect.objectContaining({ coderId: bob.id }) }]);
  });

  test('a stored resource with no sync status yet is planned as a create', () => {
    const carol: ManagedUser = { id: 'scim-carol', desired: scimUser('scim-carol', 'carol'), sync: null };
    const drift = computeDrift({ users: [carol], groups: [] }, snapshot(), ctx);
    expect(drift.users).toHaveLength(1);
    expect(drift.users[0]).toMatchObject({ differences: [], real: undefined });
    expect(drift.users[0].operations.map((o) => o.op)).toEqual(['createUser']);
  });

  test('a tombstone whose Coder user is gone: missing, nothing left to do', () => {
    const tombstone: ManagedUser = { id: 'scim-c-alice', desired: null, sync: { applied: appliedFrom(alice), deleted: true } };
    const drift = computeDrift({ users: [tombstone], groups: [] }, snapshot({ users: [bob, owner] }), ctx);
    expect(drift.users).toEqual([{ kind: 'user', id: 'scim-c-alice', differences: ['missing'], operations: [], real: undefined }]);
  });

  test('a tombstone whose Coder user was reactivated is suspended again', () => {
    const tombstone: ManagedUser = { id: 'scim-c-alice', desired: null, sync: { applied: { ...appliedFrom(alice), status: 'suspended' }, deleted: true } };
    const drift = computeDrift({ users: [tombstone], groups: [] }, snapshot(), ctx);
    expect(drift.users[0]).toMatchObject({ differences: ['status'], operations: [{ op: 'suspend' }] });
  });

  test('a group deleted in Coder is planned as a create with its members', () => {
    const drift = computeDrift(managed(), snapshot({ groups: [everyone] }), ctx);
    expect(drift.groups[0].differences).toEqual(['missing']);
    expect(drift.groups[0].operations).toEqual([
      { op: 'createGroup', orgId: ORG, name: 'engineering', display_name: 'engineering' },
      { op: 'patchGroup', add_users: [alice.id, bob.id], remove_users: [] },
    ]);
  });

  test('unmanaged Coder users and groups are reported; the Everyone group is not', () => {
    const sales = coderGroup('c-sales', 'sales', [owner]);
    const drift = computeDrift(managed(), snapshot({ groups: [everyone, engineering, sales] }), ctx);
    expect(drift.unmanaged.users).toEqual([{ id: owner.id, username: 'admin', email: 'admin@example.com', status: 'active' }]);
    expect(drift.unmanaged.groups).toEqual([{ id: 'c-sales', name: 'sales', displayName: 'sales', memberCount: 1 }]);
    expect(drift.users).toEqual([]);
  });

  test('a document that cannot be mapped is reported as unplannable, and the rest still checked', () => {
    const users = managed().users;
    users[0] = { ...users[0], desired: { id: 'scim-c-alice', userName: 'alice' } };
    const drift = computeDrift({ users, groups: [] }, snapshot(), ctx);
    expect(drift.unplannable).toEqual([{ kind: 'user', id: 'scim-c-alice', code: 'no_email', message: expect.stringContaining('e-mail') }]);
    expect(drift.checked).toBe(2);
  });

  describe('adoption rules', () => {
    const role = (name: string) => ({ name, display_name: name });

    function adopted(user: User): ManagedUser {
      const managedOne = managedUser(user, scimUser(`scim-${user.id}`, user.username, { active: false }));
      return { ...managedOne, sync: { ...managedOne.sync, applied: { ...managedOne.sync!.applied!, adopted: true } } };
    }

    test('an adopted account that gained a site role is reported as a conflict, not repaired', () => {
      const promoted = { ...alice, roles: [role('user-admin')] };
      const drift = computeDrift({ users: [adopted(promoted)], groups: [] }, snapshot({ users: [promoted, bob, owner] }), ctx);
      expect(drift.users).toEqual([]);
      expect(drift.unplannable).toEqual([
        { kind: 'user', id: 'scim-c-alice', code: 'conflict', message: expect.stringMatching(/Coder user alice.*site role user-admin/) },
      ]);
    });

    test('an adopted account that became the token user is reported likewise', () => {
      const drift = computeDrift({ users: [adopted(alice)], groups: [] }, snapshot({ tokenUserId: alice.id }), ctx);
      expect(drift.unplannable.map((u) => u.code)).toEqual(['conflict']);
      expect(drift.unplannable[0].message).toMatch(/token user/);
    });

    test('an adopted ordinary account is planned as usual, and stays marked adopted', () => {
      const drift = computeDrift({ users: [adopted(alice)], groups: [] }, snapshot(), ctx);
      expect(drift.unplannable).toEqual([]);
      expect(drift.users[0].operations).toEqual([{ op: 'suspend' }]);
      expect(drift.users[0].real?.adopted).toBe(true);
    });

    test('an account the bridge created is planned whatever its roles', () => {
      const promoted = { ...alice, roles: [role('owner')] };
      const managedOne = managedUser(promoted, scimUser('scim-c-alice', 'alice', { active: false }));
      const drift = computeDrift({ users: [managedOne], groups: [] }, snapshot({ users: [promoted, bob, owner], tokenUserId: owner.id }), ctx);
      expect(drift.unplannable).toEqual([]);
      expect(drift.users[0].operations).toEqual([{ op: 'suspend' }]);
    });
  });
});

import { planGroupPatch } from '../../src/scim/group-patch';
import { applyUserPatch } from '../../src/scim/user-patch';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../src/scim/urns';
import { parseUserInput } from '../../src/scim/user';
import { patchOp, scimErrorOf } from './scim-helpers';

const MANAGER = `${ENTERPRISE_USER_SCHEMA}:manager`;

function storedUser(): Record<string, unknown> & { id: string } {
  const { doc } = parseUserInput({
    userName: 'test.user@okta.local',
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
    displayName: 'Test User',
    nickName: 'Testy',
    active: true,
  });
  return { ...doc, id: 'user-1' };
}

describe('applyUserPatch: Okta', () => {
  test('deactivate and reactivate with a no-path replace', () => {
    const off = applyUserPatch(storedUser(), patchOp({ op: 'replace', value: { active: false } }));
    expect(off.active).toBe(false);
    expect(applyUserPatch(off, patchOp({ op: 'replace', value: { active: true } })).active).toBe(true);
  });

  test('password sync is accepted and never stored', () => {
    const patched = applyUserPatch(storedUser(), patchOp({ op: 'replace', value: { password: 'secret' } }, { op: 'replace', path: 'password', value: 'x' }));
    expect(patched).toEqual(storedUser());
  });

  test('keeps the id and recomputes nothing else', () => {
    const patched = applyUserPatch(storedUser(), patchOp({ op: 'replace', path: 'displayName', value: 'New' }));
    expect(patched).toEqual({ ...storedUser(), displayName: 'New' });
  });
});

describe('applyUserPatch: Entra without aadOptscim062020', () => {
  test('capitalised ops, one per attribute, string booleans, filtered e-mail path, URN path', () => {
    const patched = applyUserPatch(
      storedUser(),
      patchOp(
        { op: 'Replace', path: 'displayName', value: 'Pvlo' },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'TestBcwqnm@test.microsoft.com' },
        { op: 'Replace', path: 'name.givenName', value: 'Gtfd' },
        { op: 'Replace', path: 'name.familyName', value: 'Pkqf' },
        { op: 'Replace', path: 'externalId', value: 'Eqpj' },
        { op: 'Replace', path: `${ENTERPRISE_USER_SCHEMA}:employeeNumber`, value: 'Eqpj' },
        { op: 'Replace', path: 'active', value: 'False' },
      ),
    );
    expect(patched).toMatchObject({
      displayName: 'Pvlo',
      name: { givenName: 'Gtfd', familyName: 'Pkqf' },
      externalId: 'Eqpj',
      active: false,
      emails: [{ value: 'TestBcwqnm@test.microsoft.com', type: 'work', primary: true }],
      [ENTERPRISE_USER_SCHEMA]: { employeeNumber: 'Eqpj' },
    });
    expect(patched.schemas).toEqual([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]);
  });

  test('"True" re-enables', () => {
    const off = applyUserPatch(storedUser(), patchOp({ op: 'Replace', path: 'active', value: 'False' }));
    expect(applyUserPatch(off, patchOp({ op: 'Replace', path: 'active', value: 'True' })).active).toBe(true);
  });

  test('Add of a single-value string that was empty', () => {
    const { nickName: _, ...withoutNick } = storedUser();
    expect(applyUserPatch(withoutNick, patchOp({ op: 'Add', path: 'nickName', value: 'Babs' })).nickName).toBe('Babs');
  });

  test('a filtered path that matches nothing creates the element (a first work address)', () => {
    const patched = applyUserPatch(storedUser(), patchOp({ op: 'Replace', path: 'emails[type eq "home"].value', value: 'home@x.com' }));
    expect(patched.emails).toEqual([
      { value: 'test.user@okta.local', type: 'work', primary: true },
      { value: 'home@x.com', type: 'home' },
    ]);
  });

  test.each([
    ['a bare id string', '2c2f6fb8'],
    ['an object', { value: '2c2f6fb8' }],
    ['a one-element array', [{ $ref: null, value: '2c2f6fb8' }]],
  ])('manager as %s', (_label, value) => {
    const patched = applyUserPatch(storedUser(), patchOp({ op: 'Add', path: MANAGER, value }));
    expect(patched[ENTERPRISE_USER_SCHEMA]).toEqual({ manager: { value: '2c2f6fb8' } });
  });

  test.each([
    ['Replace with ""', { op: 'Replace', path: MANAGER, value: '' }],
    ['Replace with null', { op: 'Replace', path: MANAGER, value: null }],
    ['Replace with an empty value', { op: 'Replace', path: MANAGER, value: { value: '' } }],
    ['Remove', { op: 'Remove', path: MANAGER }],
  ])('manager removal: %s', (_label, operation) => {
    const managed = applyUserPatch(storedUser(), patchOp({ op: 'Add', path: MANAGER, value: 'boss' }));
    const patched = applyUserPatch(managed, patchOp(operation));
    expect(patched).not.toHaveProperty(ENTERPRISE_USER_SCHEMA);
    expect(patched.schemas).toEqual([USER_SCHEMA]);
  });

  test('setting optional attributes to "" or null clears them (SCIM_Null_Update_Test)', () => {
    const patched = applyUserPatch(
      storedUser(),
      patchOp({ op: 'Replace', path: 'nickName', value: '' }, { op: 'Replace', path: 'displayName', value: null }, { op: 'Replace', path: 'name.givenName', value: '' }),
    );
    expect(patched).not.toHaveProperty('nickName');
    expect(patched).not.toHaveProperty('displayName');
    expect(patched.name).toEqual({ familyName: 'User' });
  });

  test('roles Add with {id, value, displayName} keeps the known sub-attributes', () => {
    const patched = applyUserPatch(storedUser(), patchOp({ op: 'Add', path: 'roles', value: [{ id: 'r', value: 'Admin', displayName: 'Admin' }] }));
    expect(patched.roles).toEqual([{ value: 'Admin' }]);
  });
});

describe('applyUserPatch: Entra with aadOptscim062020', () => {
  test('lowercase ops and a no-path replace whose keys are dotted or URN-qualified', () => {
    const patched = applyUserPatch(
      storedUser(),
      patchOp(
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'TestMhvaes@test.microsoft.com' },
        {
          op: 'replace',
          value: {
            displayName: 'Bjfe',
            'name.givenName': 'Kkom',
            'name.familyName': 'Unua',
            [`${ENTERPRISE_USER_SCHEMA}:employeeNumber`]: 'Aklq',
          },
        },
        { op: 'replace', path: 'active', value: false },
      ),
    );
    expect(Object.keys(patched)).not.toContain('name.givenName');
    expect(patched).toMatchObject({
      displayName: 'Bjfe',
      name: { givenName: 'Kkom', familyName: 'Unua' },
      active: false,
      emails: [{ value: 'TestMhvaes@test.microsoft.com', type: 'work', primary: true }],
      [ENTERPRISE_USER_SCHEMA]: { employeeNumber: 'Aklq' },
    });
  });

  test('the same shape with "add"', () => {
    const patched = applyUserPatch(storedUser(), patchOp({ op: 'add', value: { 'name.middleName': 'M', title: 'CTO' } }));
    expect(patched).toMatchObject({ name: { givenName: 'Test', middleName: 'M', familyName: 'User' }, title: 'CTO' });
  });
});

describe('applyUserPatch: generic forms', () => {
  test('attribute names and paths are case-insensitive', () => {
    const patched = applyUserPatch(storedUser(), patchOp({ op: 'REPLACE', path: 'NAME.GIVENNAME', value: 'G' }, { op: 'Replace', path: 'DisplayName', value: 'D' }));
    expect(patched).toMatchObject({ name: { givenName: 'G' }, displayName: 'D' });
  });

  test('remove with a filter that matches nothing is fine; with one that matches removes the element', () => {
    const withHome = applyUserPatch(storedUser(), patchOp({ op: 'add', path: 'emails', value: [{ value: 'h@x.com', type: 'home' }] }));
    expect(applyUserPatch(withHome, patchOp({ op: 'remove', path: 'emails[type eq "other"]' }))).toEqual(withHome);
    expect(applyUserPatch(withHome, patchOp({ op: 'remove', path: 'emails[type eq "home"]' })).emails).toEqual(storedUser().emails);
  });

  test('add to a multi-valued attribute appends without duplicating', () => {
    const value = [{ value: 'h@x.com', type: 'home' }];
    const once = applyUserPatch(storedUser(), patchOp({ op: 'add', path: 'emails', value }));
    expect(applyUserPatch(once, patchOp({ op: 'add', path: 'emails', value })).emails).toHaveLength(2);
  });

  test('a PATCH cannot remove the only e-mail of a user whose userName is no address', () => {
    const user = { ...storedUser(), userName: 'tuser' };
    const err = scimErrorOf(() => applyUserPatch(user, patchOp({ op: 'remove', path: 'emails' })));
    expect([err.status, err.scimType]).toEqual([400, 'invalidValue']);
    expect(err.detail).toMatch(/^Coder requires an e-mail address/);
  });

  test('a PATCH cannot remove userName', () => {
    expect(scimErrorOf(() => applyUserPatch(storedUser(), patchOp({ op: 'remove', path: 'userName' }))).scimType).toBe('invalidValue');
  });

  test.each([
    ['id', { op: 'replace', path: 'id', value: 'x' }, 'mutability'],
    ['meta', { op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' }, 'mutability'],
    ['groups', { op: 'add', path: 'groups', value: [{ value: 'g' }] }, 'mutability'],
    ['unknown path', { op: 'replace', path: 'favouriteColour', value: 'x' }, 'invalidPath'],
    ['unknown sub-attribute', { op: 'replace', path: 'name.nickname', value: 'x' }, 'invalidPath'],
    ['unknown schema', { op: 'replace', path: 'urn:example:x:1.0:User:a', value: 'x' }, 'invalidPath'],
    ['bad filter', { op: 'replace', path: 'emails[type eq].value', value: 'x' }, 'invalidFilter'],
    ['remove without path', { op: 'remove' }, 'noTarget'],
    ['replace of a filtered path with no template', { op: 'replace', path: 'emails[value co "x"].type', value: 'work' }, 'noTarget'],
    ['unknown op', { op: 'merge', path: 'title', value: 'x' }, 'invalidSyntax'],
    ['wrong value type', { op: 'replace', path: 'active', value: 'perhaps' }, 'invalidValue'],
  ])('%s -> 400 %s', (_label, operation, scimType) => {
    const err = scimErrorOf(() => applyUserPatch(storedUser(), patchOp(operation)));
    expect([err.status, err.scimType]).toEqual([400, scimType]);
  });

  test('a body without an Operations array is 400 invalidSyntax', () => {
    for (const body of [null, {}, { Operations: {} }, { operations: 'x' }]) {
      expect(scimErrorOf(() => applyUserPatch(storedUser(), body)).scimType).toBe('invalidSyntax');
    }
  });

  test('the stored document is not modified', () => {
    const user = storedUser();
    applyUserPatch(user, patchOp({ op: 'replace', path: 'name.givenName', value: 'X' }));
    expect(user).toEqual(storedUser());
  });
});

describe('planGroupPatch', () => {
  const group = { schemas: [GROUP_SCHEMA], displayName: 'Test SCIMv2', externalId: 'ext', id: 'group-1' };
  /** User ids as this server issues them (UUIDs), named by a letter. */
  const [a, b, c, d, u4, u5] = ['a', 'b', 'c', 'd', '4', '5'].map((n) => `00000000-0000-4000-8000-00000000000${n}`);

  test("Okta's no-path replace with id and displayName: a rename, id ignored", () => {
    expect(planGroupPatch(group, patchOp({ op: 'replace', value: { id: 'group-1', displayName: 'Renamed' } }))).toEqual({
      doc: { ...group, displayName: 'Renamed' },
      membership: [],
    });
  });

  test("Okta's no-path replace with members: [] empties the group and changes no attribute", () => {
    expect(planGroupPatch(group, patchOp({ op: 'replace', value: { members: [], id: 'group-1', displayName: 'Test SCIMv2' } }))).toEqual({
      membership: [{ replace: [] }],
    });
  });

  test('Okta membership: remove by filter path and add in one request, in order', () => {
    const plan = planGroupPatch(
      group,
      patchOp(
        { op: 'remove', path: 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]' },
        { op: 'add', path: 'members', value: [{ value: '23a35c27-23d3-4c03-b4c5-6443c09e7173', display: 'test.user@okta.local' }] },
      ),
    );
    expect(plan).toEqual({ membership: [{ remove: ['89bb1940-b905-4575-9e7f-6f887cfb368e'] }, { add: ['23a35c27-23d3-4c03-b4c5-6443c09e7173'], displays: { '23a35c27-23d3-4c03-b4c5-6443c09e7173': 'test.user@okta.local' } }] });
  });

  test('replace path members is a full replacement', () => {
    expect(planGroupPatch(group, patchOp({ op: 'replace', path: 'members', value: [{ value: a }, { value: b }] })).membership).toEqual([
      { replace: [a, b] },
    ]);
  });

  test('Entra multi-member Add with $ref null', () => {
    const plan = planGroupPatch(group, patchOp({ op: 'Add', path: 'members', value: [{ $ref: null, value: a }, { $ref: null, value: b }] }));
    expect(plan.membership).toEqual([{ add: [a, b] }]);
  });

  test('Entra removal by value array (flag off) and by filter path (flag on)', () => {
    expect(planGroupPatch(group, patchOp({ op: 'Remove', path: 'members', value: [{ value: a }] })).membership).toEqual([{ remove: [a] }]);
    expect(planGroupPatch(group, patchOp({ op: 'remove', path: `members[value eq "${a}"]` })).membership).toEqual([{ remove: [a] }]);
  });

  test('remove path members with no value clears the group', () => {
    expect(planGroupPatch(group, patchOp({ op: 'remove', path: 'members' })).membership).toEqual([{ replace: [] }]);
  });

  test('Entra rename by path', () => {
    expect(planGroupPatch(group, patchOp({ op: 'Replace', path: 'displayName', value: 'N' })).doc).toEqual({ ...group, displayName: 'N' });
  });

  test("members' display names travel with the ids (Microsoft's suite sends displayName)", () => {
    const plan = planGroupPatch(group, patchOp({ op: 'add', path: 'members', value: [{ displayName: 'new User', value: u4 }, { value: u5 }] }));
    expect(plan.membership).toEqual([{ add: [u4, u5], displays: { [u4]: 'new User' } }]);
  });

  test('a bare string member value is an id when it is one; otherwise ignored (Microsoft garbage folder expects 204)', () => {
    expect(planGroupPatch(group, patchOp({ op: 'add', path: 'members', value: 'string id 1' })).membership).toEqual([]);
    expect(planGroupPatch(group, patchOp({ op: 'add', path: 'members', value: a })).membership).toEqual([{ add: [a] }]);
  });

  test('a member value that is not a user id of this server is 400 invalidValue, in a value or a filter', () => {
    for (const value of ['not-a-user', `${a}:groups`, 'x'.repeat(5_000)]) {
      expect(scimErrorOf(() => planGroupPatch(group, patchOp({ op: 'add', path: 'members', value: [{ value }] }))).scimType).toBe('invalidValue');
    }
    for (const value of ['not-a-user', `${a}:groups`]) {
      expect(scimErrorOf(() => planGroupPatch(group, patchOp({ op: 'remove', path: `members[value eq "${value}"]` }))).scimType).toBe('invalidValue');
    }
  });

  test('a replace discards the steps before it; adjacent adds merge', () => {
    const plan = planGroupPatch(
      group,
      patchOp(
        { op: 'add', path: 'members', value: [{ value: a }] },
        { op: 'replace', path: 'members', value: [{ value: b }] },
        { op: 'add', path: 'members', value: [{ value: c }] },
        { op: 'add', path: 'members', value: [{ value: d }] },
      ),
    );
    expect(plan.membership).toEqual([{ replace: [b] }, { add: [c, d] }]);
  });

  test('a members filter other than value eq is 400 invalidFilter', () => {
    expect(scimErrorOf(() => planGroupPatch(group, patchOp({ op: 'remove', path: 'members[display eq "x"]' }))).scimType).toBe('invalidFilter');
  });

  test('removing displayName is 400 invalidValue; id is 400 mutability', () => {
    expect(scimErrorOf(() => planGroupPatch(group, patchOp({ op: 'remove', path: 'displayName' }))).scimType).toBe('invalidValue');
    expect(scimErrorOf(() => planGroupPatch(group, patchOp({ op: 'replace', path: 'id', value: 'x' }))).scimType).toBe('mutability');
  });

  test('externalId can be removed', () => {
    expect(planGroupPatch(group, patchOp({ op: 'remove', path: 'externalId' })).doc).toEqual({ schemas: [GROUP_SCHEMA], displayName: 'Test SCIMv2', id: 'group-1' });
  });
});

test('an add or remove of no members plans no step', () => {
  const group = { schemas: [GROUP_SCHEMA], displayName: 'G', id: 'g' };
  expect(planGroupPatch(group, patchOp({ op: 'add', path: 'members', value: [] }, { op: 'Remove', path: 'members', value: [] })).membership).toEqual([]);
});

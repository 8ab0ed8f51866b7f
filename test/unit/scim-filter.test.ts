import { compileFilter } from '../../src/scim/filter';
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH } from '../../src/scim/filter-parser';
import { ENTERPRISE_USER_SCHEMA } from '../../src/scim/urns';
import { microsecondsPerCall, scimErrorOf } from './scim-helpers';

const alice = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: 'Id-Alice',
  externalId: 'Ext-A',
  userName: 'Alice.Smith@Example.com',
  name: { givenName: 'Alice', familyName: 'Employee' },
  displayName: 'Alice Smith',
  title: 'Engineer',
  active: true,
  emails: [
    { value: 'alice@example.com', type: 'work', primary: true },
    { value: 'alice@gmail.com', type: 'home' },
  ],
  [ENTERPRISE_USER_SCHEMA]: { department: 'R&D', manager: { value: 'boss-1' } },
  meta: { resourceType: 'User', created: '2020-01-01T00:00:00.000Z', lastModified: '2021-06-01T00:00:00.000Z' },
};

const bob = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: 'id-bob',
  userName: 'bob',
  name: { familyName: 'Builder' },
  active: false,
  emails: [{ value: 'bob@example.org', type: 'work' }],
  meta: { resourceType: 'User', created: '2014-01-01T00:00:00.000Z' },
};

function matching(filter: string): string[] {
  const compiled = compileFilter(filter, 'User');
  return [alice, bob].filter((u) => compiled.match(u)).map((u) => u.id);
}

describe('compileFilter: operators', () => {
  test.each([
    ['userName eq "alice.smith@example.com"', ['Id-Alice']],
    ['userName ne "bob"', ['Id-Alice']],
    ['displayName co "smi"', ['Id-Alice']],
    ['userName sw "ALICE"', ['Id-Alice']],
    ['userName ew ".COM"', ['Id-Alice']],
    ['userName gt "b"', ['id-bob']],
    ['userName ge "bob"', ['id-bob']],
    ['userName lt "b"', ['Id-Alice']],
    ['userName le "alice.smith@example.com"', ['Id-Alice']],
    ['title pr', ['Id-Alice']],
    ['active eq true', ['Id-Alice']],
    ['active eq false', ['id-bob']],
    ['active ne true', ['id-bob']],
    ['meta.created gt "2015-10-10T14:38:21.8617979-07:00"', ['Id-Alice']],
    ['meta.lastModified lt "2022-01-01T00:00:00Z"', ['Id-Alice']],
    ['title eq null', ['id-bob']],
  ])('%s', (filter, expected) => {
    expect(matching(filter)).toEqual(expected);
  });

  test('id and externalId compare exactly; caseExact:false attributes ignore case', () => {
    expect(matching('id eq "id-alice"')).toEqual([]);
    expect(matching('id eq "Id-Alice"')).toEqual(['Id-Alice']);
    expect(matching('externalId eq "ext-a"')).toEqual([]);
    expect(matching('emails.value eq "ALICE@EXAMPLE.COM"')).toEqual(['Id-Alice']);
  });

  test('operators, keywords and attribute names are case-insensitive', () => {
    expect(matching('DisplayName EQ "alice smith"')).toEqual(['Id-Alice']);
    expect(matching('NAME.FamilyName Eq "builder" OR Title PR')).toEqual(['Id-Alice', 'id-bob']);
  });
});

describe('compileFilter: logical forms and value paths', () => {
  test.each([
    ['userName eq "bob" or title eq "engineer"', ['Id-Alice', 'id-bob']],
    ['active eq true and title eq "engineer"', ['Id-Alice']],
    ['not (active eq true)', ['id-bob']],
    ['(userName eq "bob" or userName sw "a") and active eq false', ['id-bob']],
    ['userName eq "bob" or userName sw "a" and active eq false', ['id-bob']],
    ['emails[type eq "work" and value co "@example.com"]', ['Id-Alice']],
    ['emails[type eq "home"]', ['Id-Alice']],
    ['emails[type eq "work"].value eq "bob@example.org"', ['id-bob']],
    ['emails[not (type eq "work")]', ['Id-Alice']],
    ['EMAILS[emails.Type eq "home"]', ['Id-Alice']],
    ['emails co "example.org"', ['id-bob']],
    [`${ENTERPRISE_USER_SCHEMA}:department eq "r&d"`, ['Id-Alice']],
    [`${ENTERPRISE_USER_SCHEMA}:manager.value eq "boss-1"`, ['Id-Alice']],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "BOB"', ['id-bob']],
  ])('%s', (filter, expected) => {
    expect(matching(filter)).toEqual(expected);
  });

  test("the Microsoft suite's unquoted values", () => {
    expect(matching('name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)')).toEqual(['Id-Alice']);
    expect(matching('userName sw B')).toEqual(['id-bob']);
    expect(matching('meta.Created gt 2015-10-10T14:38:21.8617979-07:00')).toEqual(['Id-Alice']);
  });

  test('an attribute the schema does not define is absent', () => {
    expect(matching('nosuch eq "x"')).toEqual([]);
    expect(matching('nosuch pr')).toEqual([]);
    expect(matching('nosuch ne "x"')).toEqual(['Id-Alice', 'id-bob']);
  });

  test('groups filter on displayName case-insensitively and externalId exactly', () => {
    const group = { id: 'g', displayName: 'Test SCIMv2', externalId: 'MyGroup' };
    expect(compileFilter('displayName eq "test scimv2"', 'Group').match(group)).toBe(true);
    expect(compileFilter('externalId eq "mygroup"', 'Group').match(group)).toBe(false);
  });
});

describe('compileFilter: indexed lookups', () => {
  test.each([
    ['userName eq "test.user@okta.local"', { attribute: 'userName', value: 'test.user@okta.local' }],
    ['USERNAME EQ "X"', { attribute: 'userName', value: 'X' }],
    ['externalId eq "0a21f0f2"', { attribute: 'externalId', value: '0a21f0f2' }],
    ['id eq "abc"', { attribute: 'id', value: 'abc' }],
    ['emails[type eq "work"].value eq "a@x.com"', { attribute: 'email', value: 'a@x.com' }],
    ['emails[type eq "work" and value eq "a@x.com"]', { attribute: 'email', value: 'a@x.com' }],
    ['emails.value eq "a@x.com"', { attribute: 'email', value: 'a@x.com' }],
    ['emails eq "a@x.com"', { attribute: 'email', value: 'a@x.com' }],
    ['active eq true and userName eq "u"', { attribute: 'userName', value: 'u' }],
    ['displayName eq "x"', { attribute: 'displayName', value: 'x' }],
    ['userName sw "Ab"', { attribute: 'userNamePrefix', value: 'Ab' }],
  ])('User %s', (filter, lookup) => {
    expect(compileFilter(filter, 'User').lookup).toEqual(lookup);
  });

  test.each([
    ['displayName eq "Test SCIMv2"', { attribute: 'displayName', value: 'Test SCIMv2' }],
    ['externalId eq "MyGroup"', { attribute: 'externalId', value: 'MyGroup' }],
    ['id eq "g1"', { attribute: 'id', value: 'g1' }],
  ])('Group %s', (filter, lookup) => {
    expect(compileFilter(filter, 'Group').lookup).toEqual(lookup);
  });

  test.each([
    'userName ne "u"',
    'userName co "u"',
    'userName eq "u" or externalId eq "e"',
    'not (userName eq "u")',
    'displayName co "x"',
    'userName ew "u"',
    'emails[type eq "work"]',
    'emails.type eq "work"',
  ])('no lookup for User %s', (filter) => {
    expect(compileFilter(filter, 'User').lookup).toBeUndefined();
  });

  test('userName is no index for groups', () => {
    expect(compileFilter('userName eq "u"', 'Group').lookup).toBeUndefined();
  });
});

describe('compileFilter: errors are 400 invalidFilter', () => {
  test.each([
    'userName eq',
    'userName',
    '(userName eq "a"',
    'userName eq "a")',
    'userName zz "a"',
    'userName eq "unterminated',
    '"a" eq "b"',
    'and userName eq "a"',
    'emails[type eq "work"',
    'active gt true',
    'name eq "x"',
    'userName gt null',
    'meta.created gt "yesterday"',
    '',
  ])('%j', (filter) => {
    const err = scimErrorOf(() => compileFilter(filter, 'User'));
    expect([err.status, err.scimType]).toEqual([400, 'invalidFilter']);
  });

  test('a filter longer than the limit is refused, saying so', () => {
    const err = scimErrorOf(() => compileFilter(`userName eq "${'x'.repeat(MAX_FILTER_LENGTH)}"`, 'User'));
    expect(err.detail).toMatch(/longer than 2000 characters/);
  });

  test('nesting deeper than the limit is refused, saying so', () => {
    const depth = MAX_FILTER_DEPTH + 1;
    const err = scimErrorOf(() => compileFilter(`${'('.repeat(depth)}title pr${')'.repeat(depth)}`, 'User'));
    expect(err.detail).toMatch(/nested more than 20 levels/);
    expect(matching(`${'('.repeat(MAX_FILTER_DEPTH - 1)}title pr${')'.repeat(MAX_FILTER_DEPTH - 1)}`)).toEqual(['Id-Alice']);
  });
});

test('compileFilter on userName eq "x" costs well under 50 microseconds', () => {
  expect(microsecondsPerCall(20_000, () => compileFilter('userName eq "x"', 'User'))).toBeLessThan(50);
});

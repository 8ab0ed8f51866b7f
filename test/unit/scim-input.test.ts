import { randomUUID } from 'node:crypto';
import { scimErrorBody } from '../../src/scim/errors';
import { parseGroupInput } from '../../src/scim/group';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../src/scim/urns';
import { parseUserInput } from '../../src/scim/user';
import { coderEmail } from '../../src/model/email';
import { microsecondsPerCall, scimErrorOf } from './scim-helpers';

const oktaCreate = {
  schemas: [USER_SCHEMA],
  userName: 'test.user@okta.local',
  name: { givenName: 'Test', familyName: 'User' },
  emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
  displayName: 'Test User',
  locale: 'en-US',
  externalId: '00ujl29u0le5T6Aj10h7',
  groups: [],
  password: '1mz050nq',
  active: true,
};

describe('parseUserInput', () => {
  test('Okta create: password and groups are dropped, the rest kept in canonical form', () => {
    const { doc, fields } = parseUserInput(oktaCreate);
    expect(doc).not.toHaveProperty('password');
    expect(doc).not.toHaveProperty('groups');
    expect(doc).toEqual({
      schemas: [USER_SCHEMA],
      externalId: '00ujl29u0le5T6Aj10h7',
      userName: 'test.user@okta.local',
      name: { familyName: 'User', givenName: 'Test' },
      displayName: 'Test User',
      locale: 'en-US',
      active: true,
      emails: [{ value: 'test.user@okta.local', type: 'work', primary: true }],
    });
    expect(fields).toEqual({ userName: 'test.user@okta.local', externalId: '00ujl29u0le5T6Aj10h7', displayName: 'Test User', emails: ['test.user@okta.local'] });
  });

  test('Okta PUT: id and meta are ignored', () => {
    const { doc } = parseUserInput({ ...oktaCreate, id: '23a35c27', meta: { resourceType: 'User' } });
    expect(doc).not.toHaveProperty('id');
    expect(doc).not.toHaveProperty('meta');
  });

  test('Entra create: nulls dropped, empty roles dropped, unknown and malformed schema URNs tolerated', () => {
    const { doc } = parseUserInput({
      schemas: [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User'],
      externalId: '0a21f0f2',
      userName: 'Test_User_00aa',
      active: true,
      emails: [{ primary: true, type: 'work', value: 'Test_User_11bb@testuser.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      addresses: null,
      phoneNumbers: null,
      title: null,
      manager: null,
      'urn:example:custom:1.0:User': { anything: 1 },
    });
    expect(doc).toEqual({
      schemas: [USER_SCHEMA],
      externalId: '0a21f0f2',
      userName: 'Test_User_00aa',
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      active: true,
      emails: [{ value: 'Test_User_11bb@testuser.com', type: 'work', primary: true }],
    });
  });

  test('attribute names match case-insensitively and "True"/"False" become booleans', () => {
    const { doc } = parseUserInput({
      USERNAME: 'emp1',
      Active: 'True',
      DisplayName: 'Emp',
      Emails: [{ Primary: 'False', Value: 'a@example.com', TYPE: 'work' }],
    });
    expect(doc).toMatchObject({ userName: 'emp1', active: true, displayName: 'Emp' });
    expect(doc.emails).toEqual([{ value: 'a@example.com', type: 'work', primary: false }]);
  });

  test('unknown attributes (the Microsoft suite misspells "adreses") are ignored', () => {
    const { doc } = parseUserInput({ userName: 'a@example.com', adreses: [{ country: 'Germany' }] });
    expect(Object.keys(doc)).toEqual(['schemas', 'userName']);
  });

  test('the enterprise extension is kept, its key and attributes matched case-insensitively', () => {
    const { doc } = parseUserInput({
      userName: 'a@example.com',
      'URN:IETF:params:scim:schemas:extension:enterprise:2.0:User': { Department: 'R&D', manager: 'boss-id' },
    });
    expect(doc.schemas).toEqual([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]);
    expect(doc[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'R&D', manager: { value: 'boss-id' } });
  });

  test('userName is required: 400 invalidValue', () => {
    const err = scimErrorOf(() => parseUserInput({ emails: [{ value: 'a@example.com' }] }));
    expect([err.status, err.scimType]).toEqual([400, 'invalidValue']);
    expect(scimErrorBody(err)).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '400',
      scimType: 'invalidValue',
      detail: 'userName is required',
    });
  });

  test.each([
    ['a number as userName', { userName: 42, emails: [{ value: 'a@example.com' }] }],
    ['an object as displayName', { userName: 'a@example.com', displayName: { x: 1 } }],
    ['a non-boolean active', { userName: 'a@example.com', active: 'maybe' }],
    ['a number as an e-mail value', { userName: 'a@example.com', emails: [{ value: 7 }] }],
  ])('wrong types are 400 invalidValue: %s', (_label, body) => {
    const err = scimErrorOf(() => parseUserInput(body));
    expect([err.status, err.scimType]).toEqual([400, 'invalidValue']);
  });

  test('a body that is not an object is 400 invalidSyntax', () => {
    for (const body of [null, 'user', [], 12]) {
      expect(scimErrorOf(() => parseUserInput(body)).scimType).toBe('invalidSyntax');
    }
  });

  test('a user with no usable e-mail is rejected and told why', () => {
    const err = scimErrorOf(() => parseUserInput({ userName: 'OMalley', emails: [{ value: 'not-an-address' }] }));
    expect([err.status, err.scimType]).toEqual([400, 'invalidValue']);
    expect(err.detail).toMatch(/^Coder requires an e-mail address: /);
  });
});

describe('coderEmail', () => {
  test('the primary address wins over earlier ones', () => {
    expect(coderEmail({ userName: 'u', emails: [{ value: 'first@x.com' }, { value: 'primary@x.com', primary: true }] })).toBe('primary@x.com');
  });
  test('without a primary, the first address', () => {
    expect(coderEmail({ userName: 'u', emails: [{ value: 'first@x.com' }, { value: 'second@x.com' }] })).toBe('first@x.com');
  });
  test('a primary that is not an address is passed over (Microsoft suite "emailName357")', () => {
    expect(coderEmail({ userName: 'u', emails: [{ value: 'emailName357', primary: true }, { value: 'home@bob.com' }] })).toBe('home@bob.com');
  });
  test('else the userName when it is an address, else nothing', () => {
    expect(coderEmail({ userName: 'me@x.com' })).toBe('me@x.com');
    expect(coderEmail({ userName: 'me' })).toBeUndefined();
  });
});

describe('parseGroupInput', () => {
  test('Okta group push: members split from the document', () => {
    const [u1, u2] = [randomUUID(), randomUUID()];
    const result = parseGroupInput({ schemas: [GROUP_SCHEMA], displayName: 'Test SCIMv2', members: [{ value: u1, display: 'x' }, { value: u2 }] });
    expect(result).toEqual({
      doc: { schemas: [GROUP_SCHEMA], displayName: 'Test SCIMv2' },
      fields: { displayName: 'Test SCIMv2' },
      memberIds: [u1, u2],
      memberDisplays: { [u1]: 'x' },
    });
  });

  test("Entra group create: Microsoft's extra schema URN and meta are tolerated, externalId indexed", () => {
    const result = parseGroupInput({
      schemas: [GROUP_SCHEMA, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      externalId: '8aa1a0c0',
      displayName: 'displayName',
      meta: { resourceType: 'Group' },
    });
    expect(result.fields).toEqual({ displayName: 'displayName', externalId: '8aa1a0c0' });
    expect(result.memberIds).toEqual([]);
  });

  test('duplicate and bare-string members collapse to ids; a value that is no user id is 400 invalidValue', () => {
    const [a, b] = [randomUUID(), randomUUID()];
    expect(parseGroupInput({ displayName: 'g', members: [a, { Value: b }, { value: a }] }).memberIds).toEqual([a, b]);
    expect(scimErrorOf(() => parseGroupInput({ displayName: 'g', members: [{ value: 'u1' }] })).scimType).toBe('invalidValue');
  });

  test('displayName is required: 400 invalidValue', () => {
    const err = scimErrorOf(() => parseGroupInput({ members: [] }));
    expect([err.status, err.scimType, err.detail]).toEqual([400, 'invalidValue', 'displayName is required']);
  });

  test('a member without a value is 400 invalidValue', () => {
    expect(scimErrorOf(() => parseGroupInput({ displayName: 'g', members: [{ display: 'x' }] })).scimType).toBe('invalidValue');
  });
});

test('parseUserInput on an Okta create body stays well under 200 microseconds', () => {
  expect(microsecondsPerCall(20_000, () => parseUserInput(oktaCreate))).toBeLessThan(200);
});

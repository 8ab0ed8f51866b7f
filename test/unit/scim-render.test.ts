import { resourceTypes, schemas, serviceProviderConfig } from '../../src/scim/discovery';
import { project } from '../../src/scim/projection';
import { renderGroup, renderUser } from '../../src/scim/render';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../src/scim/urns';
import type { StoredResource } from '../../src/model/resource';
import { scimErrorOf } from './scim-helpers';

const BASE = 'https://bridge.example/scim/v2/';

const storedUser: StoredResource = {
  kind: 'user',
  id: 'u1',
  version: 3,
  created: Date.UTC(2024, 0, 2, 3, 4, 5),
  lastModified: Date.UTC(2024, 1, 2, 3, 4, 5),
  doc: {
    id: 'u1',
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    userName: 'alice',
    name: { givenName: 'Alice', familyName: 'Smith' },
    emails: [
      { value: 'alice@work.example', type: 'work', primary: true },
      { value: 'emailName357', type: 'home' },
    ],
    [ENTERPRISE_USER_SCHEMA]: { department: 'R&D', employeeNumber: '7' },
  },
};

describe('render', () => {
  test('a user: schemas and id first, groups with $ref, meta from the store with a weak version', () => {
    const user = renderUser(storedUser, [{ value: 'g1', display: 'Admins' }], BASE);
    expect(Object.keys(user)).toEqual(['schemas', 'id', 'userName', 'name', 'emails', ENTERPRISE_USER_SCHEMA, 'groups', 'meta']);
    expect(user.groups).toEqual([{ value: 'g1', display: 'Admins', $ref: 'https://bridge.example/scim/v2/Groups/g1', type: 'direct' }]);
    expect(user.meta).toEqual({
      resourceType: 'User',
      created: '2024-01-02T03:04:05.000Z',
      lastModified: '2024-02-02T03:04:05.000Z',
      location: 'https://bridge.example/scim/v2/Users/u1',
      version: 'W/"3"',
    });
  });

  test('a user with no groups has no groups attribute', () => {
    expect(renderUser(storedUser, [], BASE)).not.toHaveProperty('groups');
  });

  test('a group: members rendered when loaded, absent when not', () => {
    const stored: StoredResource = { ...storedUser, kind: 'group', id: 'g1', doc: { id: 'g1', schemas: [GROUP_SCHEMA], displayName: 'Admins' } };
    const withMembers = renderGroup(stored, [{ value: 'u1', display: 'alice' }], BASE);
    expect(withMembers.members).toEqual([{ value: 'u1', display: 'alice', $ref: 'https://bridge.example/scim/v2/Users/u1', type: 'User' }]);
    expect(renderGroup(stored, [], BASE).members).toEqual([]);
    const without = renderGroup(stored, undefined, BASE);
    expect(without).not.toHaveProperty('members');
    expect(without.meta).toMatchObject({ resourceType: 'Group', location: 'https://bridge.example/scim/v2/Groups/g1' });
  });
});

describe('project', () => {
  const user = renderUser(storedUser, [{ value: 'g1' }], BASE);

  test('attributes keeps only what is asked, plus schemas, id and meta', () => {
    expect(Object.keys(project(user, { attributes: ['userName', 'EMAILS'] }))).toEqual(['schemas', 'id', 'userName', 'emails', 'meta']);
  });

  test('sub-attributes, case-insensitively', () => {
    expect(project(user, { attributes: ['Name.GivenName'] }).name).toEqual({ givenName: 'Alice' });
    expect(project(user, { attributes: ['emails.value'] }).emails).toEqual([{ value: 'alice@work.example' }, { value: 'emailName357' }]);
  });

  test('value-filter projections (the Microsoft suite)', () => {
    expect(project(user, { attributes: ['emails[type eq "work"]'] }).emails).toEqual([{ value: 'alice@work.example', type: 'work', primary: true }]);
    expect(project(user, { attributes: ['emails[value eq "emailName357"]'] }).emails).toEqual([{ value: 'emailName357', type: 'home' }]);
    expect(project(user, { attributes: ['emails[type eq "nothing"]'] })).not.toHaveProperty('emails');
  });

  test('extension attributes, by attribute or as a whole', () => {
    expect(project(user, { attributes: [`${ENTERPRISE_USER_SCHEMA}:department`] })[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'R&D' });
    expect(project(user, { attributes: [ENTERPRISE_USER_SCHEMA] })[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'R&D', employeeNumber: '7' });
  });

  test('excludedAttributes drops attributes and sub-attributes but never id, schemas or meta', () => {
    const projected = project(user, { excludedAttributes: ['groups', 'emails.type', 'id', 'meta', 'schemas', ENTERPRISE_USER_SCHEMA] });
    expect(Object.keys(projected)).toEqual(['schemas', 'id', 'userName', 'name', 'emails', 'meta']);
    expect(projected.emails).toEqual([{ value: 'alice@work.example', primary: true }, { value: 'emailName357' }]);
  });

  test('members excluded from a group', () => {
    const group = renderGroup({ ...storedUser, kind: 'group', id: 'g1', doc: { id: 'g1', schemas: [GROUP_SCHEMA], displayName: 'A' } }, [{ value: 'u1' }], BASE);
    expect(project(group, { excludedAttributes: ['members'] })).not.toHaveProperty('members');
    expect(project(group, { attributes: ['displayName'] })).toEqual({ schemas: [GROUP_SCHEMA], id: 'g1', displayName: 'A', meta: group.meta });
  });

  test('unknown names are ignored; no lists means the resource unchanged', () => {
    expect(project(user, { attributes: ['nosuch'] })).toEqual({ schemas: user.schemas, id: 'u1', meta: user.meta });
    expect(project(user, {})).toBe(user);
  });

  test('a malformed filter in a projection is 400 invalidFilter', () => {
    expect(scimErrorOf(() => project(user, { attributes: ['emails[type eq]'] })).scimType).toBe('invalidFilter');
  });
});

describe('discovery', () => {
  test('ServiceProviderConfig states what the bridge supports', () => {
    const config = serviceProviderConfig(BASE, { maxResults: 200 });
    expect(config).toMatchObject({
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 200 },
      sort: { supported: false },
      etag: { supported: true },
      changePassword: { supported: false },
      meta: { location: 'https://bridge.example/scim/v2/ServiceProviderConfig' },
    });
    expect((config.authenticationSchemes as { type: string }[]).map((s) => s.type)).toEqual(['oauthbearertoken']);
  });

  test('ResourceTypes: /Users with the enterprise extension, /Groups', () => {
    expect(resourceTypes(BASE).map((r) => [r.endpoint, r.schema])).toEqual([
      ['/Users', USER_SCHEMA],
      ['/Groups', GROUP_SCHEMA],
    ]);
  });

  test('Schemas lists every schema referenced, with attribute definitions', () => {
    const all = schemas();
    const schemasReferenced = new Set<unknown>([USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA]);
    for (const served of [serviceProviderConfig(BASE, { maxResults: 1 }), ...resourceTypes(BASE), ...all]) {
      for (const urn of served.schemas as string[]) schemasReferenced.add(urn);
    }
    expect(new Set(all.map((s) => s.id))).toEqual(schemasReferenced);
    const user = all.find((s) => s.id === USER_SCHEMA);
    expect(user?.description).toBe('User Account');
    expect((user?.attributes as { name: string }[]).map((a) => a.name)).toContain('userName');
  });

  test('callers cannot alter the shared schema documents', () => {
    schemas()[0].name = 'changed';
    expect(schemas()[0].name).not.toBe('changed');
  });
});

import { formatResourceRef, kindOfType, parseResourceRef } from '../../src/model/resource-ref';

describe('resource references ("Users/<id>", "Groups/<id>")', () => {
  test.each([
    ['Users/2819c223-7f76-453a-919d-413861904646', { kind: 'user', id: '2819c223-7f76-453a-919d-413861904646' }],
    ['Groups/e9e30dba', { kind: 'group', id: 'e9e30dba' }],
  ])('%s parses and formats back', (text, ref) => {
    expect(parseResourceRef(text)).toEqual(ref);
    expect(formatResourceRef(parseResourceRef(text)!)).toBe(text);
  });

  test.each(['Users', 'Users/', '/abc', 'users/abc', 'Widgets/abc', 'Users/a/b', 'constructor/x', 'toString/x'])('%s is rejected', (text) => {
    expect(parseResourceRef(text)).toBeUndefined();
  });

  test('only the two SCIM endpoint names are types', () => {
    expect(kindOfType('Users')).toBe('user');
    expect(kindOfType('Groups')).toBe('group');
    expect(kindOfType('hasOwnProperty')).toBeUndefined();
  });
});

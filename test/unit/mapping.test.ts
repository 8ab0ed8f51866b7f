import fc from 'fast-check';
import {
  GROUP_NAME_MAX,
  MappingError,
  USERNAME_MAX,
  isValidCoderName,
  mapGroup,
  mapUser,
  sanitiseName,
  usernameFor,
  withSuffix,
} from '../../src/reconcile/mapping';
import type { ScimDocument } from '../../src/model/resource';

const CODER_NAME = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;

function user(fields: Record<string, unknown>): ScimDocument {
  return { id: 'u1', userName: 'alice', emails: [{ value: 'alice@example.com', primary: true }], ...fields };
}

describe('usernameFor', () => {
  test.each([
    ['alice', 'alice'],
    ['Alice-Smith', 'Alice-Smith'],
    ['john.doe@example.com', 'john-doe'],
    ['a_b', 'a-b'],
    ['José.Núñez@example.com', 'Jose-Nunez'],
    ['--weird--name--', 'weird-name'],
    ["o'brien@example.com", 'obrien'],
    ['first+tag@example.com', 'first-tag'],
    ['user@sub@example.com', 'usersub'],
  ])('%s -> %s', (input, expected) => {
    expect(usernameFor(input)).toBe(expected);
  });

  test('a 33-character valid-looking name is cut to 32 without a trailing hyphen', () => {
    const input = `${'a'.repeat(31)}-bc`;
    const name = usernameFor(input);
    expect(name).toBe('a'.repeat(31));
    expect(name.length).toBeLessThanOrEqual(USERNAME_MAX);
  });

  test('reserved names get a suffix', () => {
    expect(usernameFor('new')).toBe('new-1');
    expect(usernameFor('Create@example.com')).toBe('Create-1');
  });

  test('nothing usable left -> a deterministic fallback that differs per input', () => {
    const a = usernameFor('日本語@example.com');
    const b = usernameFor('中文@example.com');
    expect(a).toMatch(/^user-[0-9a-f]{8}$/);
    expect(usernameFor('日本語@example.com')).toBe(a);
    expect(b).not.toBe(a);
  });

  test('property: always a valid Coder username, deterministic', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: 'grapheme' }), (input) => {
        const name = usernameFor(input);
        expect(isValidCoderName(name, USERNAME_MAX)).toBe(true);
        expect(usernameFor(input)).toBe(name);
      }),
    );
  });

  test('property: a valid username is kept unchanged', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9]{1,10}(-[a-zA-Z0-9]{1,10}){0,2}$/), (input) => {
        fc.pre(!['new', 'create'].includes(input.toLowerCase()));
        expect(usernameFor(input)).toBe(input);
      }),
    );
  });
});

describe('withSuffix', () => {
  test('appends -n and keeps within max', () => {
    expect(withSuffix('alice', 2, USERNAME_MAX)).toBe('alice-2');
    const long = 'b'.repeat(32);
    expect(withSuffix(long, 12, USERNAME_MAX)).toBe(`${'b'.repeat(29)}-12`);
  });

  test('does not leave a double hyphen where the cut lands', () => {
    const name = `${'c'.repeat(29)}-dd`;
    expect(withSuffix(name, 1, USERNAME_MAX)).toBe(`${'c'.repeat(29)}-1`);
  });

  test('property: valid name in, valid distinct name out', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.integer({ min: 1, max: 10_000 }), (input, n) => {
        const base = sanitiseName(input, USERNAME_MAX, 'user');
        const suffixed = withSuffix(base, n, USERNAME_MAX);
        expect(suffixed).toMatch(CODER_NAME);
        expect(suffixed.length).toBeLessThanOrEqual(USERNAME_MAX);
        expect(suffixed.endsWith(`-${n}`) || suffixed === String(n)).toBe(true);
      }),
    );
  });
});

describe('mapUser', () => {
  test('maps every field', () => {
    const desired = mapUser(
      user({ userName: 'alice@example.com', name: { formatted: '  Alice Smith ' }, active: true, emails: [{ value: 'a@x.io' }, { value: 'alice@example.com', primary: true }] }),
    );
    expect(desired).toEqual({ username: 'alice', email: 'alice@example.com', name: 'Alice Smith', suspended: false });
  });

  test('e-mail: the first when none is primary, else userName when it is an e-mail', () => {
    expect(mapUser(user({ emails: [{ value: 'first@x.io' }, { value: 'second@x.io' }] })).email).toBe('first@x.io');
    expect(mapUser(user({ emails: undefined, userName: 'bob@x.io' })).email).toBe('bob@x.io');
    expect(mapUser(user({ emails: [{ value: '  ' }, { value: 'real@x.io' }] })).email).toBe('real@x.io');
  });

  test('no e-mail at all is a MappingError with a code', () => {
    const error = (() => {
      try {
        mapUser(user({ emails: [], userName: 'bob' }));
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).code).toBe('no_email');
  });

  test('name: formatted, else given + family, else displayName, else empty', () => {
    expect(mapUser(user({ name: { givenName: 'Ada', familyName: 'Lovelace' } })).name).toBe('Ada Lovelace');
    expect(mapUser(user({ name: { givenName: 'Ada' } })).name).toBe('Ada');
    expect(mapUser(user({ displayName: ' Ada L. ' })).name).toBe('Ada L.');
    expect(mapUser(user({})).name).toBe('');
  });

  test('name is cut to 128 characters with no trailing space', () => {
    const long = `${'x'.repeat(127)} yyyy`;
    const name = mapUser(user({ name: { formatted: long } })).name;
    expect(name).toBe('x'.repeat(127));
  });

  test('suspended only when active is false', () => {
    expect(mapUser(user({ active: false })).suspended).toBe(true);
    expect(mapUser(user({ active: true })).suspended).toBe(false);
    expect(mapUser(user({})).suspended).toBe(false);
  });
});

describe('mapGroup', () => {
  test('a valid display name is the name', () => {
    expect(mapGroup({ id: 'g', displayName: 'Engineering' })).toEqual({ name: 'Engineering', displayName: 'Engineering' });
  });

  test('a display name with spaces is sanitised for the name and kept for display_name', () => {
    expect(mapGroup({ id: 'g', displayName: ' Platform  Team (EU) ' })).toEqual({ name: 'Platform-Team-EU', displayName: 'Platform Team (EU)' });
  });

  test('never "Everyone", whatever the case', () => {
    expect(mapGroup({ id: 'g', displayName: 'Everyone' }).name).toBe('Everyone-1');
    expect(mapGroup({ id: 'g', displayName: 'everyone' }).name).toBe('everyone-1');
    expect(mapGroup({ id: 'g', displayName: 'EVERYONE!' }).name).toBe('EVERYONE-1');
  });

  test('limits: name 36, display name 64', () => {
    const group = mapGroup({ id: 'g', displayName: 'g'.repeat(100) });
    expect(group.name).toBe('g'.repeat(GROUP_NAME_MAX));
    expect(group.displayName).toBe('g'.repeat(64));
  });

  test('property: always a valid Coder group name and display name', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 100 }).filter((s) => s.trim() !== ''), (displayName) => {
        const group = mapGroup({ id: 'g', displayName });
        expect(isValidCoderName(group.name, GROUP_NAME_MAX)).toBe(true);
        expect(group.name.toLowerCase()).not.toBe('everyone');
        expect(group.displayName).toMatch(/^[^\s](.*[^\s])?$/);
        expect(Array.from(group.displayName).length).toBeLessThanOrEqual(64);
      }),
    );
  });

  test('a group without displayName is a MappingError', () => {
    expect(() => mapGroup({ id: 'g' })).toThrow(MappingError);
  });
});

test('mapUser passes over a primary e-mail value that is not an address, as the SCIM layer does', () => {
  const doc = { id: 'u1', userName: 'Ryan@example.com', emails: [{ primary: true, value: 'emailName357' }] };
  expect(mapUser(doc).email).toBe('Ryan@example.com');
});

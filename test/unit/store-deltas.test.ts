import fc from 'fast-check';
import { incrementalDelta, replacementDelta } from '../../src/store/calls';
import { indexDelta, parseResourceMember, resourceMember, StoreKeys, userIndexKeys } from '../../src/store/keys';

const ids: fc.Arbitrary<string[]> = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 6 });

describe('membership deltas', () => {
  test('replace: applying the delta to the current set yields (replace + add) - remove', () => {
    fc.assert(
      fc.property(ids, ids, ids, ids, (current, replace, add, remove) => {
        const delta = replacementDelta({ replace, add, remove }, new Set(current));
        const result = new Set(current);
        delta.add.forEach((id) => result.add(id));
        delta.remove.forEach((id) => result.delete(id));
        const target = new Set([...replace, ...add].filter((id) => !remove.includes(id)));
        expect([...result].sort()).toEqual([...target].sort());
        expect(delta.add.filter((id) => delta.remove.includes(id))).toEqual([]);
      }),
    );
  });

  test('add/remove: an id in both is removed, duplicates collapse', () => {
    expect(incrementalDelta({ add: ['a', 'b', 'a'], remove: ['b', 'c', 'c'] })).toEqual({ add: ['a'], remove: ['b', 'c'] });
  });
});

describe('index keys', () => {
  const keys = new StoreKeys('{p}');

  test('a case-only userName change or reordered emails move nothing; a changed email moves one entry', () => {
    const before = userIndexKeys(keys, { userName: 'Bob', emails: ['B@x.test', 'c@x.test'] });
    expect(indexDelta(before, userIndexKeys(keys, { userName: 'bob', emails: ['c@x.test', 'b@X.test'] }))).toEqual({
      releaseUnique: [],
      claimUnique: [],
      removeFromSets: [],
      addToSets: [],
    });
    expect(indexDelta(before, userIndexKeys(keys, { userName: 'Bob', emails: ['d@x.test', 'c@x.test'] }))).toEqual({
      releaseUnique: [],
      claimUnique: [],
      removeFromSets: [keys.userEmailIndex('b@x.test')],
      addToSets: [keys.userEmailIndex('d@x.test')],
    });
  });

  test('every key carries the prefix; resource members round-trip', () => {
    expect(userIndexKeys(keys, { userName: 'u', externalId: 'E', emails: ['m@x'] }).sets.every((k) => k.startsWith('{p}:'))).toBe(true);
    expect(parseResourceMember(resourceMember('group', 'id:with:colons'))).toEqual({ kind: 'group', id: 'id:with:colons' });
    expect(parseResourceMember('other:x')).toBeNull();
  });
});

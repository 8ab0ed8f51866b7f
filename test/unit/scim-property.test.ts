import fc from 'fast-check';
import { ScimError } from '../../src/scim/errors';
import { compileFilter } from '../../src/scim/filter';
import { planGroupPatch } from '../../src/scim/group-patch';
import { applyUserPatch } from '../../src/scim/user-patch';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA } from '../../src/scim/urns';
import { parseUserInput } from '../../src/scim/user';
import { patchOp } from './scim-helpers';

const user: Record<string, unknown> & { id: string } = {
  ...parseUserInput({
    userName: 'alice@example.com',
    name: { givenName: 'Alice', familyName: 'Smith' },
    emails: [{ value: 'alice@example.com', type: 'work', primary: true }],
    displayName: 'Alice',
    active: true,
  }).doc,
  id: 'u1',
};
const group = { schemas: [GROUP_SCHEMA], displayName: 'G', id: 'g1' };

/** Runs `run`; anything thrown must be a ScimError with a 4xx status and a detail. */
function onlyScimErrors(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof ScimError)) throw err;
    expect(err.status).toBeGreaterThanOrEqual(400);
    expect(err.status).toBeLessThan(500);
    expect(err.detail.length).toBeGreaterThan(0);
  }
}

const FILTER_TOKENS = [
  'userName', 'emails', 'emails.value', 'name.givenName', 'active', 'meta.created', 'id', 'externalId', 'title',
  `${ENTERPRISE_USER_SCHEMA}:manager`, 'nosuch', 'eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr',
  'and', 'or', 'not', '(', ')', '[', ']', '.value', '"x"', '"a@example.com"', '"2020-01-01T00:00:00Z"', 'true',
  'false', 'null', '12', '"\\u00e9"', '"\\q"', '"', ' ', 'type', 'value',
];

const filterText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.array(fc.constantFrom(...FILTER_TOKENS), { maxLength: 14 }).map((tokens) => tokens.join(' ')),
  fc.array(fc.constantFrom(...FILTER_TOKENS), { maxLength: 14 }).map((tokens) => tokens.join('')),
);

describe('properties', () => {
  test('random filter strings compile or fail with a ScimError; compiled filters never throw when matching', () => {
    fc.assert(
      fc.property(filterText, fc.constantFrom<'User' | 'Group'>('User', 'Group'), (text, resource) => {
        onlyScimErrors(() => {
          const compiled = compileFilter(text, resource);
          expect(typeof compiled.match(resource === 'User' ? user : group)).toBe('boolean');
          expect(typeof compiled.match({})).toBe('boolean');
        });
      }),
      { numRuns: 3000 },
    );
  });

  const opName = fc.constantFrom('add', 'Add', 'ADD', 'replace', 'Replace', 'remove', 'Remove', 'merge', '', 7);
  const path = fc.oneof(
    fc.constantFrom(
      'displayName', 'name.givenName', 'emails', 'emails[type eq "work"].value', 'emails[type eq "work"]', 'active',
      'members', 'members[value eq "u1"]', 'members[display eq "x"]', 'id', 'meta', 'groups', 'password', 'nosuch',
      `${ENTERPRISE_USER_SCHEMA}:manager`, ENTERPRISE_USER_SCHEMA, 'name[', 'emails[type eq]', 'roles', 'x509Certificates',
    ),
    fc.string({ maxLength: 20 }),
  );
  const operation = fc.record(
    { op: opName, path: fc.option(path, { nil: undefined }), value: fc.oneof(fc.jsonValue(), fc.anything()) },
    { requiredKeys: ['op'] },
  );
  const body = fc.oneof(
    fc.array(operation, { maxLength: 5 }).map((ops) => patchOp(...ops)),
    fc.anything(),
  );

  test('random PATCH bodies on users and groups succeed or fail with a ScimError', () => {
    fc.assert(
      fc.property(body, (patch) => {
        onlyScimErrors(() => applyUserPatch(user, patch));
        onlyScimErrors(() => planGroupPatch(group, patch));
      }),
      { numRuns: 3000 },
    );
  });

  /**
   * Reference model: simple attributes as a flat map. replace/add sets (null or "" clears), remove clears;
   * "True"/"False" are booleans.
   */
  type SimplePath = 'displayName' | 'nickName' | 'title' | 'name.givenName' | 'active' | 'externalId';
  const stringPaths: SimplePath[] = ['displayName', 'nickName', 'title', 'name.givenName', 'externalId'];

  function readSimple(doc: Record<string, unknown>, p: SimplePath): unknown {
    if (p === 'name.givenName') return (doc.name as Record<string, unknown> | undefined)?.givenName;
    return doc[p];
  }

  const stringValue = fc.oneof(fc.string({ maxLength: 8 }), fc.constant(''), fc.constant(null));
  const activeValue = fc.oneof(fc.boolean(), fc.constantFrom('True', 'False', 'true', 'FALSE'), fc.constant(null));
  const casing = (text: string, upper: boolean[]): string =>
    [...text].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase())).join('');

  const simpleOperation = fc
    .record({
      path: fc.constantFrom<SimplePath>(...stringPaths, 'active'),
      op: fc.constantFrom('add', 'replace', 'remove'),
      noPath: fc.boolean(),
      upper: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
      stringValue,
      activeValue,
    })
    .map(({ path: p, op, noPath, upper, stringValue: s, activeValue: a }) => ({
      path: p,
      op,
      value: p === 'active' ? a : s,
      noPath: noPath && op !== 'remove',
      spelledPath: casing(p, upper),
      spelledOp: casing(op, upper),
    }));

  test('accepted PATCHes of simple attributes agree with the reference model', () => {
    fc.assert(
      fc.property(fc.array(simpleOperation, { minLength: 1, maxLength: 8 }), (operations) => {
        const model = new Map<SimplePath, unknown>(
          [...stringPaths, 'active' as const].map((p) => [p, readSimple(user, p)]),
        );
        for (const o of operations) {
          const cleared = o.op === 'remove' || o.value === null || o.value === '';
          const value = typeof o.value === 'string' && o.path === 'active' ? o.value.toLowerCase() === 'true' : o.value;
          model.set(o.path, cleared ? undefined : value);
        }
        const patch = patchOp(
          ...operations.map((o) =>
            o.noPath
              ? { op: o.spelledOp, value: { [o.spelledPath]: o.value } }
              : { op: o.spelledOp, path: o.spelledPath, ...(o.op === 'remove' ? {} : { value: o.value }) },
          ),
        );
        const patched = applyUserPatch(user, patch);
        for (const [p, expected] of model) expect([p, readSimple(patched, p)]).toEqual([p, expected]);
        expect(patched.userName).toBe(user.userName);
        expect(patched.id).toBe('u1');
      }),
      { numRuns: 1000 },
    );
  });
});

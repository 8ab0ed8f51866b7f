/**
 * The requests every server in the benchmark answers: the same users, the same lookups, the same creates,
 * so the figures compare servers and nothing else.
 */

export const SCIM_TOKEN = 'bench-scim-token-0123456789-abcdefghij';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export type Operation = 'lookup' | 'get' | 'create';

export function seededUserName(index: number): string {
  return `bench.user${index}@example.com`;
}

/** A user as Okta creates one: userName, name, one primary work e-mail, active. */
export function userDocument(userName: string): Record<string, unknown> {
  const local = userName.split('@')[0];
  return {
    schemas: [USER_SCHEMA],
    userName,
    name: { givenName: 'Bench', familyName: local },
    displayName: `Bench ${local}`,
    emails: [{ value: userName, type: 'work', primary: true }],
    active: true,
  };
}

export function lookupPath(userName: string): string {
  return `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`;
}

export function userPath(id: string): string {
  return `/scim/v2/Users/${id}`;
}

export function memberPatch(op: 'add' | 'remove', userId: string): Record<string, unknown> {
  return op === 'add'
    ? { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }] }
    : { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'remove', path: `members[value eq "${userId}"]` }] };
}

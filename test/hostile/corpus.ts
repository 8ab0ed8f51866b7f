/**
 * Malformed and hostile SCIM requests. Every one must get a 4xx SCIM error, promptly, and change nothing.
 * `{user}` and `{group}` in a path are replaced by the ids of a seeded user and group. A string `body` is sent
 * as is; anything else is JSON-encoded. `auth` defaults to the valid SCIM token.
 */
import { GROUP_SCHEMA } from '../../src/scim/urns';

export interface HostileRequest {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  auth?: 'valid' | 'none' | 'wrong' | 'admin' | 'basic';
}

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** As raw text: a value this deep is beyond what JSON.stringify can walk. */
function nestedUser(depth: number): string {
  return `{"schemas":["${'urn:ietf:params:scim:schemas:core:2.0:User'}"],"userName":"nested@example.com","name":${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}}`;
}

function patch(...operations: unknown[]): Record<string, unknown> {
  return { schemas: [PATCH], Operations: operations };
}

const validUser = { schemas: [USER], userName: 'hostile.new@example.com', emails: [{ value: 'hostile.new@example.com', primary: true }] };
const filter = (text: string) => `/Users?filter=${encodeURIComponent(text)}`;

export const HOSTILE_CORPUS: HostileRequest[] = [
  // Bodies that are not JSON, or not the JSON asked for.
  { name: 'truncated JSON', method: 'POST', path: '/Users', body: '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":' },
  { name: 'JSON with a trailing comma', method: 'POST', path: '/Users', body: '{"userName":"a@example.com",}' },
  { name: 'a JSON array for a resource', method: 'POST', path: '/Users', body: '[1,2,3]' },
  { name: 'a JSON string for a resource', method: 'POST', path: '/Users', body: '"just a string"' },
  { name: 'JSON null', method: 'POST', path: '/Users', body: 'null' },
  { name: 'empty body on create', method: 'POST', path: '/Users', body: '' },
  { name: 'form content type', method: 'POST', path: '/Users', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'userName=a%40example.com' },
  { name: 'text/plain content type', method: 'POST', path: '/Users', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(validUser) },
  { name: 'XML body', method: 'POST', path: '/Users', headers: { 'content-type': 'application/xml' }, body: '<user><userName>a</userName></user>' },
  { name: 'UTF-16 charset', method: 'POST', path: '/Users', headers: { 'content-type': 'application/scim+json; charset=utf-16' }, body: JSON.stringify(validUser) },
  { name: 'body over the size limit', method: 'POST', path: '/Users', body: { ...validUser, displayName: 'x'.repeat(1_100_000) } },
  { name: 'deeply nested JSON', method: 'POST', path: '/Users', body: nestedUser(50_000) },
  { name: 'huge emails array', method: 'POST', path: '/Users', body: { ...validUser, userName: 'huge@example.com', emails: Array.from({ length: 40_000 }, (_, i) => ({ value: 'bad' + i })) } },
  { name: 'huge member array of unknown ids', method: 'POST', path: '/Groups', body: { schemas: [GROUP_SCHEMA], displayName: 'Huge', members: Array.from({ length: 20_000 }, (_, i) => ({ value: `no-such-user-${i}` })) } },
  { name: 'user without userName', method: 'POST', path: '/Users', body: { schemas: [USER], emails: [{ value: 'x@example.com' }] } },
  { name: 'userName of the wrong type', method: 'POST', path: '/Users', body: { schemas: [USER], userName: { $gt: '' } } },
  { name: 'control characters in userName', method: 'POST', path: '/Users', body: { schemas: [USER], userName: 'ctl\u0000\u0007\u001b[31m@example.com' } },
  { name: 'user with no e-mail at all', method: 'POST', path: '/Users', body: { schemas: [USER], userName: 'not an email \u202e\u200d' } },
  { name: 'group without displayName', method: 'POST', path: '/Groups', body: { schemas: [GROUP_SCHEMA], members: [] } },
  { name: 'lone surrogate escape', method: 'POST', path: '/Groups', body: '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"\\ud800","members":[{"value":"\\udfff"}]}' },

  // Filters.
  { name: 'filter with an unbalanced quote', method: 'GET', path: filter('userName eq "unterminated') },
  { name: 'filter with unbalanced parentheses', method: 'GET', path: filter('((userName eq "a"') },
  { name: 'filter nested 500 levels deep', method: 'GET', path: filter(`${'('.repeat(500)}userName eq "a"${')'.repeat(500)}`) },
  { name: 'filter with nested not()', method: 'GET', path: filter(`${'not ('.repeat(200)}userName eq "a"${')'.repeat(200)}`) },
  { name: 'filter with a very long string', method: 'GET', path: filter(`userName eq "${'a'.repeat(6_000)}"`) },
  { name: 'filter with 150 or-clauses', method: 'GET', path: filter(Array.from({ length: 150 }, (_, i) => `userName eq "u${i}"`).join(' or ')) },
  { name: 'filter with an unknown operator', method: 'GET', path: filter('userName like "a%"') },
  { name: 'filter with a bare word', method: 'GET', path: filter('drop table users') },
  { name: 'filter with a value path never closed', method: 'GET', path: filter('emails[type eq "work"') },
  { name: 'filter that is a regular-expression bomb', method: 'GET', path: filter(`userName co "${'(a+)+'.repeat(50)}"x`) },
  { name: 'group filter with an unbalanced quote', method: 'GET', path: `/Groups?filter=${encodeURIComponent('displayName eq "x')}` },

  // Paging.
  { name: 'non-numeric count', method: 'GET', path: '/Users?count=ten' },
  { name: 'non-numeric startIndex', method: 'GET', path: '/Users?startIndex=%27%3B' },
  { name: 'count as an array', method: 'GET', path: '/Users?count=1&count=2' },
  { name: 'count beyond any integer', method: 'GET', path: '/Users?count=99999999999999999999999' },
  { name: 'startIndex out of any range', method: 'GET', path: '/Users?startIndex=1e400' },

  // PATCH into read-only or unknown attributes, and malformed PATCHes.
  { name: 'PATCH of id', method: 'PATCH', path: '/Users/{user}', body: patch({ op: 'replace', path: 'id', value: 'another-id' }) },
  { name: 'PATCH of meta.created', method: 'PATCH', path: '/Users/{user}', body: patch({ op: 'replace', path: 'meta.created', value: '1970-01-01T00:00:00Z' }) },
  { name: 'PATCH of groups (read-only on a user)', method: 'PATCH', path: '/Users/{user}', body: patch({ op: 'add', path: 'groups', value: [{ value: '{group}' }] }) },
  { name: 'PATCH of an unknown attribute', method: 'PATCH', path: '/Users/{user}', body: patch({ op: 'replace', path: 'isAdmin', value: true }) },
  { name: 'PATCH of an unknown extension', method: 'PATCH', path: '/Users/{user}', body: patch({ op: 'replace', path: 'urn:evil:schema:Root:role', value: 'owner' }) },
  { name: 'PATCH with an unknown op', method: 'PATCH', path: '/Users/{user}', body: patch({ op: 'explode', path: 'active', value: false }) },
  { name: 'PATCH without Operations', method: 'PATCH', path: '/Users/{user}', body: { schemas: [PATCH] } },
  { name: 'PATCH with Operations not an array', method: 'PATCH', path: '/Users/{user}', body: { schemas: [PATCH], Operations: { op: 'replace' } } },
  { name: 'PATCH with a bad path filter', method: 'PATCH', path: '/Users/{user}', body: patch({ op: 'remove', path: 'emails[type eq "work"' }) },
  { name: 'PATCH remove of a required attribute', method: 'PATCH', path: '/Users/{user}', body: patch({ op: 'remove', path: 'userName' }) },
  { name: 'PATCH active to a non-boolean', method: 'PATCH', path: '/Users/{user}', body: patch({ op: 'replace', path: 'active', value: 'maybe' }) },
  { name: 'PATCH of group id', method: 'PATCH', path: '/Groups/{group}', body: patch({ op: 'replace', path: 'id', value: 'x' }) },
  { name: 'PATCH group members with a non-array of garbage', method: 'PATCH', path: '/Groups/{group}', body: patch({ op: 'add', path: 'members', value: 42 }) },
  { name: 'PATCH group members filter unbalanced', method: 'PATCH', path: '/Groups/{group}', body: patch({ op: 'remove', path: 'members[value eq "x"' }) },
  { name: 'PATCH group with an unknown attribute', method: 'PATCH', path: '/Groups/{group}', body: patch({ op: 'replace', path: 'owner', value: 'me' }) },

  // Ids and paths.
  { name: 'path traversal in a user id', method: 'GET', path: '/Users/..%2F..%2Fadmin%2Fstatus' },
  { name: 'dot-dot user id', method: 'GET', path: '/Users/..' },
  { name: 'path traversal in a PATCH id', method: 'PATCH', path: '/Users/..%2Fseq', body: patch({ op: 'replace', path: 'active', value: false }) },
  { name: 'Redis key pattern as an id', method: 'DELETE', path: '/Users/*' },
  { name: 'wildcard group id', method: 'DELETE', path: '/Groups/%2A' },
  { name: 'very long id', method: 'GET', path: `/Users/${'a'.repeat(5_000)}` },
  { name: 'control characters in an id', method: 'GET', path: '/Users/%00%0d%0aSet-Cookie:x' },
  { name: 'unknown resource type', method: 'GET', path: '/Admins' },
  { name: 'Bulk is not supported', method: 'POST', path: '/Bulk', body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] } },

  // Authentication.
  { name: 'no token', method: 'GET', path: '/Users', auth: 'none' },
  { name: 'wrong token', method: 'GET', path: '/Users', auth: 'wrong' },
  { name: 'admin token on SCIM', method: 'GET', path: '/Users', auth: 'admin' },
  { name: 'basic auth', method: 'GET', path: '/Users', auth: 'basic' },
  { name: 'wrong token on a write', method: 'POST', path: '/Users', auth: 'wrong', body: validUser },
  { name: 'no token on DELETE', method: 'DELETE', path: '/Users/{user}', auth: 'none' },
];

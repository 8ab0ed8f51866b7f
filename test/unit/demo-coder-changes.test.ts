import { describeChanges, snapshot, type CoderSnapshot } from '../../scripts/demo/coder-changes';
import type { SimGroup, SimUser } from '../coder-sim';

function user(id: string, username: string, status: SimUser['status'] = 'active', deleted = false): SimUser {
  return { id, username, email: `${username}@example.com`, name: username, status, login_type: 'oidc', created_at: '', updated_at: '', deleted, organization_ids: [], roles: [], workspaces: 0 };
}

function group(id: string, name: string, members: string[]): SimGroup {
  return { id, name, display_name: name, organization_id: 'org', members: new Set(members), source: 'user', avatar_url: '', quota_allowance: 0 };
}

const empty: CoderSnapshot = { users: new Map(), groups: new Map() };

test('a snapshot leaves out the owner and deleted users and names members by username', () => {
  const view = snapshot([user('o', 'admin'), user('a', 'ada'), user('b', 'bob'), user('d', 'gone', 'active', true)], [group('g', 'eng', ['b', 'a'])], 'o');
  expect([...view.users.values()].map((u) => u.username)).toEqual(['ada', 'bob']);
  expect(view.groups.get('g')).toEqual({ name: 'eng', members: ['ada', 'bob'] });
});

test('describes arrivals, status changes, renames, membership changes and removals', () => {
  const before = snapshot([user('a', 'ada'), user('b', 'bob')], [group('g', 'eng', ['a']), group('h', 'ops', [])], 'o');
  const after = snapshot([user('a', 'ada', 'suspended'), user('c', 'cy')], [group('g', 'engineering', ['a', 'c'])], 'o');
  expect(describeChanges(before, after)).toEqual([
    'user ada is now suspended',
    'user created: cy <cy@example.com> (active)',
    'user deleted: bob',
    'group eng renamed to engineering',
    'group engineering members: [ada, cy]',
    'group deleted: ops',
  ]);
});

test('says nothing when nothing changed', () => {
  const view = snapshot([user('a', 'ada')], [group('g', 'eng', ['a'])], 'o');
  expect(describeChanges(empty, empty)).toEqual([]);
  expect(describeChanges(view, snapshot([user('a', 'ada')], [group('g', 'eng', ['a'])], 'o'))).toEqual([]);
});

import fc from 'fast-check';
import { GroupSummaryError, GroupSummaryScanner } from '../../src/coder/group-summary';

/** Coder's group object as codersdk renders it, members in full. */
function groupJson(id: string, name: string, displayName: string, members: { id: string; name: string }[], quota = 0, avatar = ''): string {
  return JSON.stringify({
    id,
    name,
    display_name: displayName,
    organization_id: 'org-1',
    members: members.map((m) => ({
      id: m.id,
      username: `u-${m.id}`,
      avatar_url: '',
      name: m.name,
      email: `${m.id}@example.com`,
      created_at: '2026-01-01T00:00:00Z',
      last_seen_at: '0001-01-01T00:00:00Z',
      status: 'active',
      login_type: 'oidc',
      theme_preference: '',
    })),
    total_member_count: members.length,
    avatar_url: avatar,
    quota_allowance: quota,
    source: 'user',
  });
}

function scan(chunks: string[]) {
  const scanner = new GroupSummaryScanner();
  for (const chunk of chunks) scanner.write(chunk);
  return scanner.summary();
}

function split(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(text.slice(from, point));
    from = point;
  }
  chunks.push(text.slice(from));
  return chunks;
}

test('reads the id, names, avatar, quota and member ids, wherever the chunks are cut, whatever the strings hold', () => {
  const tricky = fc.string({ unit: fc.constantFrom('a', '"', '\\', ':', ',', '{', '}', '[', ']', 'é', '\n', 'id') });
  fc.assert(
    fc.property(
      fc.uuid(),
      tricky,
      tricky,
      fc.array(fc.record({ id: fc.uuid(), name: tricky }), { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      fc.nat(),
      tricky,
      (id, name, displayName, members, cuts, quota, avatar) => {
        const text = groupJson(id, name, displayName, members, quota, avatar);
        expect(scan(split(text, cuts))).toEqual({
          id,
          name,
          display_name: displayName,
          organization_id: 'org-1',
          avatar_url: avatar,
          quota_allowance: quota,
          memberIds: members.map((m) => m.id),
        });
      },
    ),
  );
});

test('an answer cut short is an error, not a group with fewer members', () => {
  const text = groupJson('g', 'eng', 'Eng', [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }]);
  expect(() => scan([text.slice(0, text.indexOf('"b"'))])).toThrow(GroupSummaryError);
  expect(() => scan(['{"members":[]}'])).toThrow(GroupSummaryError);
});

test('50,000 members arrive in 64 KB chunks and are all read', () => {
  const members = Array.from({ length: 50_000 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `User ${i}` }));
  const text = groupJson('g', 'big', 'Big', members);
  const chunks = split(text, Array.from({ length: Math.ceil(text.length / 65_536) }, (_, i) => (i + 1) * 65_536));
  expect(chunks.length).toBeGreaterThan(100);
  expect(scan(chunks).memberIds).toEqual(members.map((m) => m.id));
});

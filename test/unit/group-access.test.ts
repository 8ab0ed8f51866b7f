/** The access policy's step of a group reconcile: what it reads, what it writes, what it records. */
import { CoderApiError } from '../../src/coder/errors';
import type { GroupSummary } from '../../src/coder/group-summary';
import type { Template, TemplateAcl, UpdateTemplateAclRequest, PatchGroupRequest } from '../../src/coder/types';
import { compilePolicy } from '../../src/policy/compile';
import { AccessPolicyHolder } from '../../src/policy/holder';
import { parsePolicy } from '../../src/policy/load';
import { planGroupAccess, type GroupGrantRecord } from '../../src/policy/plan';
import { accessKey, createdGrants, groupsAffectUsers, GroupGrants, matchedName, viewGroup, withScimName } from '../../src/reconcile/group-access';
import type { OrgDirectory } from '../../src/reconcile/org-directory';
import type { AppliedGroupState } from '../../src/reconcile/plan';
import type { Progress } from '../../src/reconcile/reconcile-resource';

const policyOf = (text: string) => compilePolicy(parsePolicy(`version: 1\nrules:\n${text}`, 'p.yaml'), 'coder');

const TEMPLATES = `
  - match: {groups: ["eng*"]}
    grants:
      group:
        quotaAllowance: 50
        templates: [{name: "dev-*", access: use}, {name: ops, access: admin}]
`;

/** A Coder with one group (g1) and templates, counting reads and writes. */
function fakeCoder(templates: string[], acl: Record<string, Record<string, 'use' | 'admin'>> = {}, group = { quota_allowance: 0, avatar_url: '' }) {
  const calls: string[] = [];
  const coder = {
    calls,
    acl,
    group,
    failOn: undefined as string | undefined,
    failStatus: 500,
    async groupSummary(id: string): Promise<GroupSummary | null> {
      calls.push('GET group');
      return { id, name: 'eng', display_name: 'Eng', organization_id: 'o1', memberIds: [], ...coder.group };
    },
    async templates(): Promise<Template[]> {
      calls.push('GET templates');
      return templates.map((name) => ({ id: `t-${name}`, name, display_name: name, organization_id: 'o1' }));
    },
    async templateAcl(id: string): Promise<TemplateAcl> {
      calls.push(`GET acl ${id}`);
      const entries = Object.entries(coder.acl[id] ?? {}).map(([gid, role]) => ({ id: gid, name: gid, organization_id: 'o1', role }));
      return { users: [], group: entries };
    },
    async patchGroup(_id: string, body: PatchGroupRequest): Promise<void> {
      calls.push(`PATCH group ${JSON.stringify(body)}`);
      Object.assign(coder.group, body);
    },
    async patchTemplateAcl(id: string, body: UpdateTemplateAclRequest): Promise<void> {
      if (coder.failOn === id) throw new CoderApiError({ status: coder.failStatus, message: 'boom', method: 'PATCH', route: '/api/v2/templates/{template}/acl' });
      calls.push(`PATCH acl ${id} ${JSON.stringify(body.group_perms)}`);
      for (const [gid, role] of Object.entries(body.group_perms ?? {})) {
        coder.acl[id] ??= {};
        if (role === '') delete coder.acl[id][gid];
        else coder.acl[id][gid] = role;
      }
    },
  };
  return coder;
}

function progressOf(access?: GroupGrantRecord): Progress<AppliedGroupState> {
  return { applied: { coderId: 'g1', name: 'eng', displayName: 'Eng', ...(access ? { access } : {}) }, notes: [], operations: [], followUps: [], createdCoderIds: [] };
}

function viewOf(text: string, displayName = 'eng') {
  const access = planGroupAccess(policyOf(text), displayName);
  return { orgId: 'o1', scim: { name: 'eng', displayName }, desired: { name: 'eng', displayName }, access, key: accessKey('o1', access) };
}

describe('GroupGrants', () => {
  test('grants quota and template access (glob, admin), one write per changed grant, and records them', async () => {
    const coder = fakeCoder(['dev-go', 'dev-py', 'ops', 'other']);
    const progress = progressOf();
    const view = viewOf(TEMPLATES);
    expect(await new GroupGrants(coder).apply(view, progress)).toBe('done');
    expect(coder.calls.filter((c) => c.startsWith('PATCH'))).toEqual([
      'PATCH group {"quota_allowance":50}',
      'PATCH acl t-dev-go {"g1":"use"}',
      'PATCH acl t-dev-py {"g1":"use"}',
      'PATCH acl t-ops {"g1":"admin"}',
    ]);
    // Only the templates the policy grants are read, never `other`.
    expect(coder.calls.filter((c) => c.startsWith('GET acl'))).toEqual(['GET acl t-dev-go', 'GET acl t-dev-py', 'GET acl t-ops']);
    expect(progress.applied).toMatchObject({ access: { quotaAllowance: 50, templates: { 't-dev-go': 'use', 't-dev-py': 'use', 't-ops': 'admin' } }, accessKey: view.key });
  });

  test('a policy edit takes back only what the bridge granted: a hand-made entry and a hand-changed quota stay', async () => {
    const granted: GroupGrantRecord = { quotaAllowance: 50, templates: { 't-dev-go': 'use', 't-ops': 'admin' } };
    // By hand: the quota changed to 75, and the group was given `manual` and `dev-py`.
    const coder = fakeCoder(['dev-go', 'dev-py', 'ops', 'manual'], { 't-dev-go': { g1: 'use' }, 't-ops': { g1: 'admin' }, 't-dev-py': { g1: 'use' }, 't-manual': { g1: 'use' } }, { quota_allowance: 75, avatar_url: '' });
    const progress = progressOf(granted);
    const view = viewOf(`
  - match: {groups: [eng]}
    grants: {group: {templates: [{name: "dev-*", access: admin}, {name: "man*", access: admin}]}}
`);
    await new GroupGrants(coder).apply(view, progress);
    expect(coder.calls.filter((c) => c.startsWith('PATCH'))).toEqual(['PATCH acl t-dev-go {"g1":"admin"}', 'PATCH acl t-ops {"g1":""}']);
    expect(coder.group.quota_allowance).toBe(75);
    expect(coder.acl['t-manual']).toEqual({ g1: 'use' });
    expect(coder.acl['t-dev-py']).toEqual({ g1: 'use' });
    expect(progress.applied!.access).toEqual({ templates: { 't-dev-go': 'admin' } });
  });

  test('a failure part-way keeps the record of the grants Coder took (none is forgotten, none repeated blindly)', async () => {
    const coder = fakeCoder(['dev-go', 'dev-py']);
    coder.failOn = 't-dev-py';
    const progress = progressOf();
    const checkpoints: unknown[] = [];
    progress.checkpoint = async () => void checkpoints.push({ calls: [...coder.calls], access: structuredClone(progress.applied!.access) });
    await expect(new GroupGrants(coder).apply(viewOf(TEMPLATES), progress)).rejects.toThrow('boom');
    // The entries the calls create were recorded before any write (a crash after Coder took one leaves it the
    // bridge's, to take back later); the failed one stays recorded: a 5xx may have been applied, and if it was not,
    // Coder lacks the entry and nothing is ever removed on its account.
    expect(checkpoints).toEqual([{ calls: expect.not.arrayContaining([expect.stringMatching(/^PATCH/)]), access: { templates: { 't-dev-go': 'use', 't-dev-py': 'use' } } }]);
    expect(progress.applied!.access).toEqual({ quotaAllowance: 50, templates: { 't-dev-go': 'use', 't-dev-py': 'use' } });
    // The ask is not recorded as applied: the next run reads Coder again.
    expect(progress.applied!.accessKey).toBeUndefined();
  });

  test('an entry Coder refuses outright (a 4xx: not applied) is not recorded as the bridge\'s', async () => {
    const coder = fakeCoder(['dev-go', 'dev-py']);
    coder.failOn = 't-dev-py';
    coder.failStatus = 400;
    const progress = progressOf();
    await expect(new GroupGrants(coder).apply(viewOf(TEMPLATES), progress)).rejects.toThrow('boom');
    expect(progress.applied!.access).toEqual({ quotaAllowance: 50, templates: { 't-dev-go': 'use' } });
  });

  test('nothing granted now or before: no Coder call at all', async () => {
    const coder = fakeCoder(['dev-go']);
    const progress = progressOf();
    await new GroupGrants(coder).apply(viewOf(TEMPLATES, 'sales'), progress);
    expect(coder.calls).toEqual([]);
  });

  test('a granted template deleted from Coder leaves the record without a call', async () => {
    const coder = fakeCoder([]);
    const progress = progressOf({ templates: { 't-gone': 'use' } });
    await new GroupGrants(coder).apply(viewOf(TEMPLATES, 'sales'), progress);
    expect(coder.calls).toEqual(['GET templates']);
    expect(progress.applied!.access).toEqual({ templates: {} });
  });
});

describe('what the policy makes of a group', () => {
  const orgs = { idOf: async (name: string) => `id-${name}` } as unknown as OrgDirectory;

  test('organization, display name (the policy wins over the SCIM one), and no policy: the base organization, untouched', async () => {
    const holder = new AccessPolicyHolder(
      parsePolicy('version: 1\nrules:\n  - match: {groups: ["ds-*"]}\n    grants: {group: {organization: data, displayName: Data}}', 'p.yaml'),
      'coder',
    );
    const view = await viewGroup({ policy: holder, orgs }, 'base', { name: 'ds-ml', displayName: 'ds-ml' });
    expect(view).toMatchObject({ orgId: 'id-data', desired: { name: 'ds-ml', displayName: 'Data' }, scim: { displayName: 'ds-ml' } });
    expect(await viewGroup(undefined, 'base', { name: 'x', displayName: 'X' })).toEqual({ orgId: 'base', scim: { name: 'x', displayName: 'X' }, desired: { name: 'x', displayName: 'X' } });
    const applied = withScimName({ coderId: 'g', name: 'ds-ml', displayName: 'Data' }, view);
    expect(matchedName(applied)).toBe('ds-ml');
    expect(withScimName({ ...applied, displayName: 'ds-ml' }, view)).toEqual({ coderId: 'g', name: 'ds-ml', displayName: 'ds-ml' });
  });

  test('the access key changes with what the grant step reads Coder for, not with the display name', () => {
    const key = (text: string) => accessKey('o1', planGroupAccess(policyOf(text), 'eng'));
    const base = '  - match: {groups: [eng]}\n    grants: {group: {quotaAllowance: 5, templates: [{name: "a*", access: use}]}}';
    expect(key(base)).toBe(key(base));
    expect(key(base.replace('5', '6'))).not.toBe(key(base));
    expect(key(base.replace('use', 'admin'))).not.toBe(key(base));
    expect(key(base.replace('quotaAllowance: 5', 'quotaAllowance: 5, displayName: E'))).toBe(key(base));
    expect(createdGrants(planGroupAccess(policyOf(base), 'eng'))).toEqual({ quotaAllowance: 5, templates: {} });
    expect(createdGrants(planGroupAccess(policyOf(base), 'other'))).toBeUndefined();
  });

  test('users depend on their groups only when a group rule grants roles or organizations, or places a group elsewhere', () => {
    expect(groupsAffectUsers(policyOf(TEMPLATES))).toBe(false);
    expect(groupsAffectUsers(policyOf('  - match: {roles: [x]}\n    grants: {siteRoles: [auditor]}'))).toBe(false);
    expect(groupsAffectUsers(policyOf('  - match: {groups: ["a*"]}\n    grants: {siteRoles: [auditor]}'))).toBe(true);
    expect(groupsAffectUsers(policyOf('  - match: {groups: [a]}\n    grants: {organizations: [{name: o2}]}'))).toBe(true);
    expect(groupsAffectUsers(policyOf('  - match: {groups: [a]}\n    grants: {group: {organization: o2}}'))).toBe(true);
    expect(groupsAffectUsers(policyOf('  - match: {groups: [a]}\n    grants: {group: {organization: coder}}'))).toBe(false);
  });
});

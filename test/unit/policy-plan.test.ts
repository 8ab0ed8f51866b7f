/** The grant planner: pure, owns only what it granted, idempotent. */
import fc from 'fast-check';
import { compileGlob } from '../../src/policy/glob';
import { compilePolicy } from '../../src/policy/compile';
import { parsePolicy } from '../../src/policy/load';
import {
  applyUserChange,
  EMPTY_GROUP_GRANTS,
  EMPTY_USER_GRANTS,
  planGroupAccess,
  planGroupChange,
  planOwnedSet,
  planTemplateAcl,
  planUserAccess,
  planUserChange,
  type CoderUserAccess,
} from '../../src/policy/plan';
import type { AccessPolicy } from '../../src/policy/schema';

const POLICY = `
version: 1
rules:
  - match: {roles: [Coder.TemplateAdmin]}
    grants: {siteRoles: [template-admin]}
  - match: {groups: ["DS Admins"]}
    grants:
      organizations: [{name: data-science, roles: [organization-admin]}]
  - match: {groups: ["ds-*"]}
    grants:
      group:
        organization: data-science
        quotaAllowance: 20
        templates: [{name: "python-*", access: use}]
  - match: {groups: ["ds-ml"]}
    grants:
      siteRoles: [auditor]
      group:
        organization: elsewhere
        quotaAllowance: 99
        displayName: Machine Learning
        templates: [{name: python-gpu, access: admin}]
`;
const compiled = () => compilePolicy(parsePolicy(POLICY, 'p.yaml'), 'coder');

describe('globs', () => {
  test('* any run, ? one character, the rest literal; case folding only when asked', () => {
    expect(compileGlob('ds-*').test('ds-')).toBe(true);
    expect(compileGlob('ds-*').test('DS-ml')).toBe(false);
    expect(compileGlob('ds-*', { caseInsensitive: true }).test('DS-ml')).toBe(true);
    expect(compileGlob('a?c').test('abc')).toBe(true);
    expect(compileGlob('a?c').test('ac')).toBe(false);
    expect(compileGlob('a?c').test('a😀c')).toBe(true);
    expect(compileGlob('a.c').test('abc')).toBe(false);
    expect(compileGlob('*x*y*').test('aaxbbyc')).toBe(true);
    expect(compileGlob('*x*y*').test('aayxb')).toBe(false);
  });

  test('a pathological pattern against a long name stays fast (no backtracking blow-up)', () => {
    const glob = compileGlob('*a*a*a*a*a*a*a*b');
    const started = process.hrtime.bigint();
    expect(glob.test('a'.repeat(256))).toBe(false);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
  });

  test('property: a glob without wildcards is string equality', () => {
    fc.assert(fc.property(fc.string().filter((s) => !/[*?]/.test(s)), fc.string(), (p, v) => compileGlob(p).test(v) === (p === v)));
  });
});

describe('what the policy wants', () => {
  test('an Entra app role gives a site role; groups give org membership and roles', () => {
    const policy = compiled();
    expect(planUserAccess(policy, { groups: [], roles: ['Coder.TemplateAdmin'] })).toEqual({ siteRoles: ['template-admin'], organizations: {} });
    expect(planUserAccess(policy, { groups: ['ds admins'], roles: [] })).toEqual({
      siteRoles: [],
      organizations: { coder: [], 'data-science': ['organization-admin'] },
    });
  });

  test("a group's organization: the first placing rule wins; members must join it", () => {
    const policy = compiled();
    expect(planGroupAccess(policy, 'ds-ml').organization).toBe('data-science');
    expect(planGroupAccess(policy, 'Platform').organization).toBe('coder');
    expect(planUserAccess(policy, { groups: ['ds-ml'], roles: [] })).toEqual({ siteRoles: ['auditor'], organizations: { 'data-science': [] } });
  });

  test('group fields: first rule setting each; template access is the union, admin beats use', () => {
    const access = planGroupAccess(compiled(), 'ds-ml');
    expect(access).toMatchObject({ organization: 'data-science', quotaAllowance: 20, displayName: 'Machine Learning' });
    const templates = [
      { id: 't1', name: 'python-gpu' },
      { id: 't2', name: 'python-cpu' },
      { id: 't3', name: 'go' },
    ];
    expect(planTemplateAcl(access, templates)).toEqual({ t1: 'admin', t2: 'use' });
    expect(planTemplateAcl(planGroupAccess(compiled(), 'ds-web'), templates)).toEqual({ t1: 'use', t2: 'use' });
  });
});

describe('ownership', () => {
  test('planOwnedSet adds what is missing, removes only what the bridge owns, keeps hand-made values', () => {
    expect(planOwnedSet(['a', 'b'], ['c', 'd'], ['b', 'c', 'x'])).toEqual({ add: ['a'], remove: ['c'], final: ['a', 'b', 'x'], owned: ['a'] });
  });

  const actual = (siteRoles: string[], organizations: Record<string, string[]>): CoderUserAccess => ({ siteRoles, organizations });

  test('a policy edit revokes only what the bridge granted', () => {
    const policy = compiled();
    const before = planUserAccess(policy, { groups: ['DS Admins'], roles: ['Coder.TemplateAdmin'] });
    const first = planUserChange(before, EMPTY_USER_GRANTS, actual(['user-admin'], { coder: ['organization-auditor'] }), 'coder');
    expect(first.siteRoles?.final).toEqual(['template-admin', 'user-admin']);
    expect(first.join).toEqual(['data-science']);
    expect(first.organizationRoles).toEqual({ 'data-science': { add: ['organization-admin'], remove: [], final: ['organization-admin'], owned: ['organization-admin'] } });
    expect(first.calls).toBe(3);

    // The IdP drops the app role and the group: the bridge takes back its grants, not the hand-made ones.
    const coderNow = actual(['template-admin', 'user-admin'], { coder: ['organization-auditor'], 'data-science': ['organization-admin'] });
    const after = planUserChange(planUserAccess(policy, { groups: [], roles: [] }), first.next, coderNow, 'coder');
    expect(after.siteRoles?.final).toEqual(['user-admin']);
    expect(after.leave).toEqual(['data-science']);
    expect(after.organizationRoles).toEqual({});
    expect(after.next).toEqual(EMPTY_USER_GRANTS);
    expect(after.calls).toBe(2);
  });

  test('a role the user already held by hand is not owned, so revoking the policy leaves it', () => {
    const policy = compiled();
    const want = planUserAccess(policy, { groups: [], roles: ['Coder.TemplateAdmin'] });
    const change = planUserChange(want, EMPTY_USER_GRANTS, actual(['template-admin'], { coder: [] }), 'coder');
    expect(change.calls).toBe(0);
    expect(change.next.siteRoles).toEqual([]);
    const revoke = planUserChange(planUserAccess(policy, { groups: [], roles: [] }), change.next, actual(['template-admin'], { coder: [] }), 'coder');
    expect(revoke.calls).toBe(0);
  });

  test('the base organization is never joined or left by the policy; its roles are planned', () => {
    const want = { siteRoles: [], organizations: { coder: ['organization-admin'] } };
    const change = planUserChange(want, EMPTY_USER_GRANTS, actual([], { coder: [] }), 'coder');
    expect(change.join).toEqual([]);
    expect(change.organizationRoles.coder.final).toEqual(['organization-admin']);
    const drop = planUserChange({ siteRoles: [], organizations: {} }, change.next, actual([], { coder: ['organization-admin'] }), 'coder');
    expect(drop.leave).toEqual([]);
    expect(drop.organizationRoles.coder.final).toEqual([]);
  });

  test('groups: quota, display name and ACL follow the policy; a hand-made ACL entry survives', () => {
    const policy = compiled();
    const access = planGroupAccess(policy, 'ds-ml');
    const acl = planTemplateAcl(access, [
      { id: 't1', name: 'python-gpu' },
      { id: 't2', name: 'python-cpu' },
      { id: 'hand', name: 'python-hand' },
    ]);
    const coder = { quotaAllowance: 0, displayName: 'ds-ml', avatarUrl: '', templates: { hand: 'admin' as const } };
    const first = planGroupChange(access, acl, EMPTY_GROUP_GRANTS, coder, 'ds-ml');
    expect(first.patch).toEqual({ quota_allowance: 20, display_name: 'Machine Learning' });
    expect(first.acl).toEqual({ t1: 'admin', t2: 'use' });
    expect(first.next).toEqual({ quotaAllowance: 20, displayName: 'Machine Learning', templates: { t1: 'admin', t2: 'use' } });
    expect(first.calls).toBe(3);

    // The policy drops everything: the bridge resets its own values and removes its own ACL entries only.
    const empty = planGroupAccess(compilePolicy({ version: 1, onSuspend: 'leave', rules: [] }, 'coder'), 'ds-ml');
    const applied = { quotaAllowance: 20, displayName: 'Machine Learning', avatarUrl: '', templates: { hand: 'admin' as const, t1: 'admin' as const, t2: 'use' as const } };
    const revoke = planGroupChange(empty, {}, first.next, applied, 'ds-ml');
    expect(revoke.patch).toEqual({ quota_allowance: 0, display_name: 'ds-ml' });
    expect(revoke.acl).toEqual({ t1: '', t2: '' });
    expect(revoke.next).toEqual({ templates: {} });
  });

  test('a value changed by hand after the bridge set it is left alone when the policy lets go', () => {
    const empty = planGroupAccess(compilePolicy({ version: 1, onSuspend: 'leave', rules: [] }, 'coder'), 'g');
    const change = planGroupChange(empty, {}, { quotaAllowance: 20, templates: { t1: 'use' } }, { quotaAllowance: 7, displayName: 'g', avatarUrl: '', templates: { t1: 'admin' } }, 'g');
    expect(change.patch).toEqual({});
    expect(change.acl).toEqual({});
  });
});

// ---------- properties ----------

const SITE = ['user-admin', 'template-admin', 'auditor'] as const;
const ORGS = ['coder', 'o1', 'o2'];
const ORG_ROLES = ['organization-admin', 'organization-auditor', 'custom-x'];
const GROUPS = ['ga', 'gb', 'gc', 'team-1', 'team-2'];
const ROLES = ['R1', 'R2', 'R3'];

const ruleArb = fc.record({
  match: fc.oneof(
    fc.record({ groups: fc.subarray([...GROUPS, 'team-*', 'g?'], { minLength: 1 }) }),
    fc.record({ roles: fc.subarray(ROLES, { minLength: 1 }) }),
  ),
  allowOwner: fc.constant(false),
  grants: fc.record({
    siteRoles: fc.subarray([...SITE]),
    organizations: fc.uniqueArray(fc.record({ name: fc.constantFrom(...ORGS), roles: fc.subarray(ORG_ROLES) }), { selector: (o) => o.name, maxLength: 3 }),
  }),
});
const policyArb = fc.array(ruleArb, { maxLength: 8 }).map((rules): AccessPolicy => ({ version: 1, onSuspend: 'leave', rules }));
const inputArb = fc.record({ groups: fc.subarray(GROUPS), roles: fc.subarray(ROLES) });
const coderArb = fc.record({
  siteRoles: fc.subarray([...SITE, 'owner']),
  organizations: fc.dictionary(fc.constantFrom(...ORGS), fc.subarray(ORG_ROLES)),
});

describe('planner properties', () => {
  test('removing a rule never adds grants', () => {
    fc.assert(
      fc.property(policyArb, inputArb, fc.nat(), (policy, input, pick) => {
        fc.pre(policy.rules.length > 0);
        const fewer = { ...policy, rules: policy.rules.filter((_, i) => i !== pick % policy.rules.length) };
        const all = planUserAccess(compilePolicy(policy, 'coder'), input);
        const less = planUserAccess(compilePolicy(fewer, 'coder'), input);
        expect(all.siteRoles).toEqual(expect.arrayContaining(less.siteRoles));
        for (const [org, roles] of Object.entries(less.organizations)) expect(all.organizations[org]).toEqual(expect.arrayContaining(roles));
      }),
    );
  });

  test('plan, apply, plan again: nothing left to do (idempotent), and only owned grants are ever removed', () => {
    fc.assert(
      fc.property(policyArb, inputArb, inputArb, coderArb, (policy, before, after, start) => {
        const compiled = compilePolicy(policy, 'coder');
        const coder0 = { siteRoles: start.siteRoles, organizations: { coder: [], ...start.organizations } };
        const first = planUserChange(planUserAccess(compiled, before), EMPTY_USER_GRANTS, coder0, 'coder');
        const coder1 = applyUserChange(coder0, first);
        expect(planUserChange(planUserAccess(compiled, before), first.next, coder1, 'coder').calls).toBe(0);

        const second = planUserChange(planUserAccess(compiled, after), first.next, coder1, 'coder');
        const coder2 = applyUserChange(coder1, second);
        // Hand-made grants (in Coder before the bridge acted) all survive.
        expect(coder2.siteRoles).toEqual(expect.arrayContaining(coder0.siteRoles));
        for (const [org, roles] of Object.entries(coder0.organizations)) expect(coder2.organizations[org]).toEqual(expect.arrayContaining(roles));
        expect(planUserChange(planUserAccess(compiled, after), second.next, coder2, 'coder').calls).toBe(0);
      }),
    );
  });
});

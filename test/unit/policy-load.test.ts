/** The access-policy file: YAML parsing, one line per problem with its place, and the JSON Schema. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { PolicyError } from '../../src/policy/errors';
import { policyJsonSchema } from '../../src/policy/json-schema';
import { loadPolicyFile, parsePolicy } from '../../src/policy/load';
import { accessPolicySchema } from '../../src/policy/schema';

const root = join(__dirname, '..', '..');
const EXAMPLE = join(root, 'config', 'access-policy.example.yaml');
const SCHEMA_FILE = join(root, 'config', 'access-policy.schema.json');

function problemsOf(text: string): string[] {
  try {
    parsePolicy(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).problems;
  }
  throw new Error('expected the policy to be refused');
}

describe('parsePolicy', () => {
  test('the shipped example is valid and keeps its meaning', () => {
    const policy = loadPolicyFile(EXAMPLE);
    expect(policy.onSuspend).toBe('stopWorkspaces');
    expect(policy.rules.map((r) => r.name)).toEqual(['entra-template-admins', 'platform-owners', 'data-science-admins', 'data-science-teams', 'platform-team']);
    expect(policy.rules[1]).toMatchObject({ allowOwner: true, grants: { siteRoles: ['owner'] } });
    expect(policy.rules[3].grants.group).toMatchObject({ organization: 'data-science', quotaAllowance: 20, templates: [{ name: 'python-*', access: 'use' }] });
  });

  test('defaults: onSuspend leave, empty grants, allowOwner false', () => {
    const policy = parsePolicy('version: 1\nrules:\n  - match: {roles: [A]}\n    grants: {}\n', 'p.yaml');
    expect(policy).toEqual({ version: 1, onSuspend: 'leave', rules: [{ match: { roles: ['A'] }, allowOwner: false, grants: { siteRoles: [], organizations: [] } }] });
  });

  test('each problem is one line with the file, the line and the path', () => {
    const text = [
      'version: 1', //                                   1
      'rules:', //                                       2
      '  - name: admins', //                             3
      '    match:', //                                   4
      '      groups: ["Coder Admins"]', //               5
      '    grants:', //                                  6
      '      siteRoles: [auditor, admin]', //            7
      '      organizations:', //                         8
      '        - name: data', //                         9
      '          roles: [organization-member]', //       10
      '          colour: blue', //                       11
      '  - match: {}', //                                12
      '    grants:', //                                  13
      '      group: {quotaAllowance: -1}', //            14
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      'p.yaml:7: rules[0].grants.siteRoles[1]: must be one of "user-admin", "template-admin", "auditor", "owner" (got "admin")',
      'p.yaml:10: rules[0].grants.organizations[0].roles[0]: organization-member is implied for every member and cannot be granted',
      'p.yaml:11: rules[0].grants.organizations[0].colour: unknown key (a typo?)',
      'p.yaml:12: rules[1].match: needs at least one group or role to match',
      'p.yaml:14: rules[1].grants.group.quotaAllowance: must be at least 0',
      'p.yaml:14: rules[1].grants.group: a group grant needs match.groups: it applies to the matched groups',
    ]);
  });

  test('owner only with allowOwner: true', () => {
    const rule = (extra: string) => `version: 1\nrules:\n  - match: {groups: [Ops]}\n${extra}    grants:\n      siteRoles: [user-admin, owner]\n`;
    expect(problemsOf(rule(''))).toEqual(['p.yaml:5: rules[0].grants.siteRoles[1]: owner is granted only by a rule with allowOwner: true']);
    expect(parsePolicy(rule('    allowOwner: true\n'), 'p.yaml').rules[0].grants.siteRoles).toEqual(['user-admin', 'owner']);
  });

  test('missing version, wrong types and YAML syntax errors', () => {
    expect(problemsOf('rules: []\n')).toEqual(['p.yaml:1: version: must be one of 1 (got undefined)']);
    expect(problemsOf('')).toEqual(['p.yaml: version: must be one of 1 (got undefined)']);
    expect(problemsOf('version: 1\nrules: {}\n')).toEqual(['p.yaml:2: rules: must be a list']);
    expect(problemsOf('version: 1\nversion: 1\n')).toEqual([expect.stringMatching(/^p\.yaml:2: YAML: Map keys must be unique/)]);
    expect(problemsOf('version: 1\nrules: [\n')).toEqual([expect.stringMatching(/^p\.yaml:\d+: YAML: /)]);
  });

  test('names follow Coder rules; template globs are allowed', () => {
    const text = 'version: 1\nrules:\n  - match: {groups: [a]}\n    grants:\n      organizations: [{name: "Data Science"}]\n      group:\n        organization: ok-org\n        displayName: " padded"\n        templates: [{name: "py_*", access: owner}]\n';
    expect(problemsOf(text)).toEqual([
      'p.yaml:5: rules[0].grants.organizations[0].name: an organization name must be letters, digits and single hyphens (Coder\'s name rule)',
      'p.yaml:8: rules[0].grants.group.displayName: must not start or end with whitespace',
      'p.yaml:9: rules[0].grants.group.templates[0].name: a template name or glob (letters, digits, single hyphens, * and ?)',
      'p.yaml:9: rules[0].grants.group.templates[0].access: must be one of "use", "admin" (got "owner")',
    ]);
  });

  test('an unreadable file is one problem line', () => {
    expect(() => loadPolicyFile(join(root, 'no-such-policy.yaml'))).toThrow(PolicyError);
    try {
      loadPolicyFile(join(root, 'no-such-policy.yaml'));
    } catch (err) {
      expect((err as PolicyError).problems).toEqual([`${join(root, 'no-such-policy.yaml')}: cannot read (ENOENT)`]);
    }
  });
});

describe('config/access-policy.schema.json', () => {
  const ajv = new Ajv({ allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));

  test('is what `npm run policy:schema` generates from the zod schema (no drift)', () => {
    expect(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'))).toEqual(policyJsonSchema());
  });

  test('the example validates against both schemas', () => {
    const example = parse(readFileSync(EXAMPLE, 'utf8'));
    expect(validate(example)).toBe(true);
    expect(accessPolicySchema.safeParse(example).success).toBe(true);
  });

  const base = { version: 1, rules: [{ match: { groups: ['g'] }, grants: {} }] };
  const withRule = (rule: Record<string, unknown>) => ({ version: 1, rules: [{ match: { groups: ['g'] }, ...rule }] });
  test.each([
    ['version 2', { ...base, version: 2 }],
    ['unknown top-level key', { ...base, extra: true }],
    ['unknown onSuspend', { ...base, onSuspend: 'delete' }],
    ['site role admin', withRule({ grants: { siteRoles: ['admin'] } })],
    ['unknown key in a rule', withRule({ grants: {}, priority: 1 })],
    ['org name with a space', withRule({ grants: { organizations: [{ name: 'a b' }] } })],
    ['organization-member granted', withRule({ grants: { organizations: [{ name: 'a', roles: ['organization-member'] }] } })],
    ['negative quota', withRule({ grants: { group: { quotaAllowance: -1 } } })],
    ['fractional quota', withRule({ grants: { group: { quotaAllowance: 1.5 } } })],
    ['template access owner', withRule({ grants: { group: { templates: [{ name: 't', access: 'owner' }] } } })],
    ['display name of 65 characters', withRule({ grants: { group: { displayName: 'x'.repeat(65) } } })],
    ['rules not a list', { version: 1, rules: {} }],
  ])('both schemas refuse: %s', (_name, input) => {
    expect(validate(input)).toBe(false);
    expect(accessPolicySchema.safeParse(input).success).toBe(false);
  });

  test.each([
    ['owner without allowOwner', withRule({ grants: { siteRoles: ['owner'] } })],
    ['group grant on a role-only rule', { version: 1, rules: [{ match: { roles: ['r'] }, grants: { group: {} } }] }],
    ['empty match', { version: 1, rules: [{ match: {}, grants: {} }] }],
  ])('cross-field rule only zod (and policy check) refuses: %s', (_name, input) => {
    expect(validate(input)).toBe(true);
    expect(accessPolicySchema.safeParse(input).success).toBe(false);
  });
});

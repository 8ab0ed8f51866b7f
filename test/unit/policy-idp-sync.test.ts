/** Where Coder's own IdP sync overlaps what the bridge manages under a policy (pure). */
import { parsePolicy } from '../../src/policy/load';
import { idpSyncOverlaps, organizationsOfPolicy } from '../../src/policy/idp-sync-overlap';

const policy = parsePolicy(
  `version: 1
rules:
  - match: {roles: [Admin]}
    grants:
      organizations: [{name: data, roles: [organization-admin]}, {name: coder, roles: []}]
  - match: {groups: ["ml-*"]}
    grants:
      group: {organization: ml}
`,
  'p.yaml',
);
const off = { siteRoleField: '', organizationField: '', groupFields: {}, roleFields: {} };

test('the organizations whose settings matter: the base one and every one the policy names', () => {
  expect(organizationsOfPolicy(policy, 'coder')).toEqual(['coder', 'data', 'ml']);
});

test('no sync on: no warning', () => {
  expect(idpSyncOverlaps(policy, 'coder', off)).toEqual([]);
});

test('organization sync on: memberships outside the base organization are named', () => {
  const [warning, ...rest] = idpSyncOverlaps(policy, 'coder', { ...off, organizationField: 'groups' });
  expect(rest).toEqual([]);
  expect(warning).toMatch(/^Coder's organization sync is on \(field "groups"\): Coder refuses to add OIDC users to data, ml /);
});

test('role sync warns only where the policy grants organization roles; group sync where the bridge has groups', () => {
  const warnings = idpSyncOverlaps(policy, 'coder', {
    ...off,
    roleFields: { data: 'roles', ml: 'roles', coder: 'roles' },
    groupFields: { coder: 'groups', data: 'groups', ml: 'groups' },
  });
  expect(warnings.map((w) => w.split(':')[0])).toEqual(['organization "data"', 'organization "coder"', 'organization "ml"']);
  expect(warnings[0]).toContain("role sync is on");
  expect(warnings[1]).toContain("group sync is on");
  expect(warnings[2]).toContain("group sync is on");
});

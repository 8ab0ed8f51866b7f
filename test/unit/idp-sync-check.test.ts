import { CoderApiError, CoderNetworkError } from '../../src/coder/errors';
import { createLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics';
import { AccessPolicyHolder } from '../../src/policy/holder';
import { parsePolicy } from '../../src/policy/load';
import type { IdpSyncReader } from '../../src/reconcile/idp-sync-settings';
import { checkOnDemand, idpSyncChecker } from '../../src/runtime/idp-sync-check';
import type { AccessPolicyStatus, IdpSyncCheck } from '../../src/store/access-policy-status';

/** The worker's IdP sync check against a Coder that answers, lacks the Premium licence, or does not answer. */

const POLICY = parsePolicy('version: 1\nrules:\n  - name: admins\n    match: { groups: [Admins] }\n    grants: { organizations: [{ name: coder, roles: [organization-admin] }] }\n', 'policy.yaml');

const SITE_ROLE_POLICY = parsePolicy('version: 1\nrules:\n  - match: { roles: [Coder.Auditor] }\n    grants: { siteRoles: [auditor] }\n', 'policy.yaml');

const settings = (field: string) => Promise.resolve({ field, mapping: {} });

/** A Coder whose deployment has no site role sync, unless `coder` says otherwise. */
function harness(coder: Omit<IdpSyncReader, 'deploymentConfig'> & Partial<IdpSyncReader>, policy = POLICY) {
  const metrics = createMetrics({ defaultMetrics: false });
  let record: AccessPolicyStatus = { loaded: null, reloadFailure: null, idpSync: null };
  const warned: string[] = [];
  const logger = createLogger('silent');
  logger.warn = ((fields: { warning?: string }) => void (fields.warning && warned.push(fields.warning))) as typeof logger.warn;
  const check = idpSyncChecker({
    coder: { deploymentConfig: () => Promise.resolve({ config: { oidc: { user_role_field: '' } } }), ...coder },
    policy: new AccessPolicyHolder(policy, 'coder'),
    orgs: { idOf: async () => 'org-coder' },
    status: {
      read: async () => record,
      write: async (field, value) => void (record = { ...record, [field]: value }),
    },
    metrics,
    logger,
    now: () => 1_000,
  });
  const gauge = async () => (await metrics.idpSyncOverlaps.get()).values[0]?.value;
  return { check, gauge, warned, idpSync: (): IdpSyncCheck | null => record.idpSync };
}

test('role sync on where the policy grants organization roles: one warning, recorded, counted and logged', async () => {
  const h = harness({ organizationSyncSettings: () => settings(''), groupSyncSettings: () => settings(''), roleSyncSettings: () => settings('roles') });
  await h.check();
  expect(h.idpSync()).toEqual({ at: 1_000, warnings: [expect.stringMatching(/^organization "coder": Coder's role sync is on/)] });
  expect(await h.gauge()).toBe(1);
  expect(h.warned).toEqual(h.idpSync()!.warnings);
});

test.each([
  ['404 (older Coder without Premium)', 404, 'Route not found.'],
  ['403 (newer Coder without Premium)', 403, 'IdP sync is a Premium feature. Contact sales!'],
])('a Coder that answers %s has no IdP sync: no warning, no failure', async (_name, status, message) => {
  const refuse = () => Promise.reject(new CoderApiError({ status, message, method: 'GET', route: '/api/v2/settings/idpsync/organization' }));
  const h = harness({ deploymentConfig: refuse, organizationSyncSettings: refuse, groupSyncSettings: refuse, roleSyncSettings: refuse });
  await h.check();
  expect(h.idpSync()).toEqual({ at: 1_000, warnings: [] });
  expect(await h.gauge()).toBe(0);
});

test('a Coder that does not answer: the error is recorded, the warnings of the last check stay, nothing throws', async () => {
  let down = false;
  const h = harness({
    organizationSyncSettings: () => (down ? Promise.reject(new CoderNetworkError({ method: 'GET', route: '/api/v2/settings/idpsync/organization' }, 'connect ECONNREFUSED', false)) : settings('')),
    groupSyncSettings: () => settings('groups'),
    roleSyncSettings: () => settings(''),
  });
  await h.check();
  const warnings = h.idpSync()!.warnings;
  expect(warnings).toHaveLength(1);
  down = true;
  await h.check();
  expect(h.idpSync()).toEqual({ at: 1_000, warnings, error: expect.stringContaining('ECONNREFUSED') });
  expect(await h.gauge()).toBe(1);
});

test("the deployment's site role sync: a warning naming CODER_OIDC_USER_ROLE_FIELD, only where the policy grants site roles", async () => {
  const siteRoleSyncOn = {
    deploymentConfig: () => Promise.resolve({ config: { oidc: { user_role_field: 'roles' } } }),
    organizationSyncSettings: () => settings(''),
    groupSyncSettings: () => settings(''),
    roleSyncSettings: () => settings(''),
  };
  const orgRolesOnly = harness(siteRoleSyncOn);
  await orgRolesOnly.check();
  expect(orgRolesOnly.idpSync()!.warnings).toEqual([]);
  const siteRoles = harness(siteRoleSyncOn, SITE_ROLE_POLICY);
  await siteRoles.check();
  expect(siteRoles.idpSync()!.warnings).toEqual([expect.stringMatching(/^Coder's site role sync is on \(OIDC 'User Role Field' "roles", CODER_OIDC_USER_ROLE_FIELD\)/)]);
});

test('on demand: one check at a time, and at most one per interval', async () => {
  let clock = 0;
  let runs = 0;
  let release: () => void = () => undefined;
  const check = checkOnDemand(
    () => {
      runs++;
      return new Promise<void>((done) => (release = done));
    },
    10_000,
    () => clock,
  );
  const first = check();
  const during = check();
  expect(runs).toBe(1);
  release();
  await Promise.all([first, during]);
  clock = 9_999;
  await check();
  expect(runs).toBe(1);
  clock = 10_000;
  const later = check();
  release();
  await later;
  expect(runs).toBe(2);
});

test("a Coder that cannot show its deployment configuration (405, 404, 403) still has its other settings checked", async () => {
  for (const status of [403, 404, 405]) {
    const h = harness({
      deploymentConfig: () => Promise.reject(new CoderApiError({ status, message: 'no', method: 'GET', route: '/api/v2/deployment/config' })),
      organizationSyncSettings: () => settings(''),
      groupSyncSettings: () => settings(''),
      roleSyncSettings: () => settings('roles'),
    });
    await h.check();
    expect(h.idpSync()).toEqual({ at: 1_000, warnings: [expect.stringMatching(/^organization "coder": Coder's role sync is on/)] });
  }
});

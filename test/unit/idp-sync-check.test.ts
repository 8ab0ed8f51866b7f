import { CoderApiError, CoderNetworkError } from '../../src/coder/errors';
import { createLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics';
import { AccessPolicyHolder } from '../../src/policy/holder';
import { parsePolicy } from '../../src/policy/load';
import type { IdpSyncReader } from '../../src/reconcile/idp-sync-settings';
import { idpSyncChecker } from '../../src/runtime/idp-sync-check';
import type { AccessPolicyStatus, IdpSyncCheck } from '../../src/store/access-policy-status';

/** The worker's IdP sync check against a Coder that answers, lacks the Premium licence, or does not answer. */

const POLICY = parsePolicy('version: 1\nrules:\n  - name: admins\n    match: { groups: [Admins] }\n    grants: { organizations: [{ name: coder, roles: [organization-admin] }] }\n', 'policy.yaml');

const settings = (field: string) => Promise.resolve({ field, mapping: {} });

function harness(coder: IdpSyncReader) {
  const metrics = createMetrics({ defaultMetrics: false });
  let record: AccessPolicyStatus = { loaded: null, reloadFailure: null, idpSync: null };
  const warned: string[] = [];
  const logger = createLogger('silent');
  logger.warn = ((fields: { warning?: string }) => void (fields.warning && warned.push(fields.warning))) as typeof logger.warn;
  const check = idpSyncChecker({
    coder,
    policy: new AccessPolicyHolder(POLICY, 'coder'),
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
  const h = harness({ organizationSyncSettings: refuse, groupSyncSettings: refuse, roleSyncSettings: refuse });
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

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { runResyncCommand } from '../../src/cli/resync';
import { ResyncQueue } from '../../src/queue/resync-queue';
import type { AppliedUserState } from '../../src/reconcile/plan';
import { api } from '../coder-sim/helpers';
import { waitFor } from '../wait-for';
import { oktaUser, startE2E, type E2E } from './harness';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * `resync --dry-run` and POST /admin/resync {"dryRun": true} with an access policy: the report's `policy` section
 * lists, per user and group, the grants the policy would add and remove (site roles, organization memberships
 * and roles, template ACL entries, quotas), and nothing is applied; the same resync without dryRun applies them.
 */

const POLICY = `version: 1
rules:
  - name: auditors
    match: { groups: [Auditors] }
    grants: { siteRoles: [auditor] }
  - name: data
    match: { groups: [Data] }
    grants:
      organizations: [{ name: data, roles: [organization-admin] }]
      group:
        quotaAllowance: 10
        templates: [{ name: "python-*", access: use }]
`;

const WAIT_MS = 20_000;

let e2e: E2E;
let dir: string;
let redis: Redis;
let dataOrg: string;
let template: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'policy-dry-run-'));
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  e2e = await startE2E({
    env: (sim) => {
      dataOrg = sim.direct.createOrganization('data');
      template = sim.direct.createTemplate('python-base');
      return { ACCESS_POLICY_FILE: join(dir, 'policy.yaml') };
    },
  });
  redis = new Redis(e2e.config.redis.url);
}, 60_000);

afterAll(async () => {
  redis.disconnect();
  await e2e.close();
  rmSync(dir, { recursive: true, force: true });
});

async function resync(body: Record<string, unknown>): Promise<any> {
  const accepted = await e2e.admin('POST', '/resync', body);
  expect(accepted.status).toBe(202);
  let view: any;
  await waitFor(async () => (view = (await e2e.admin('GET', `/resync/${accepted.body.id}`)).body).state === 'completed', WAIT_MS, 'the resync');
  return view.result;
}

/** What the policy governs in the simulator, for the two users and the Data group. */
function coderAccess(ada: string, bob: string, dataGroup: string) {
  const group = e2e.sim.groups().find((g) => g.id === dataGroup)!;
  return {
    ada: [...e2e.sim.roles(ada).site].sort(),
    bob: e2e.sim.roles(bob).organizations[dataOrg] ?? null,
    quota: group.quota_allowance,
    acl: e2e.sim.templateAcl(template).groups[dataGroup] ?? null,
  };
}

test('a dry run lists what the policy would put back after hand-made changes, applies nothing; a resync applies it', async () => {
  const [ada, bob] = await Promise.all(['ada', 'bob'].map((name) => e2e.scim('POST', '/Users', oktaUser(`${name}@example.com`, name, 'Dry'))));
  for (const [displayName, member] of [['Auditors', ada], ['Data', bob]] as const) {
    const group = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, members: [{ value: member.body.id }] });
    expect(group.status).toBe(201);
  }
  await e2e.waitForConvergence(WAIT_MS);
  const coderId = async (kind: 'user' | 'group', scimId: string) => (await e2e.store.getSync<{ coderId: string }>(kind, scimId))!.applied!.coderId;
  const adaId = await coderId('user', ada.body.id);
  const bobId = await coderId('user', bob.body.id);
  const dataScimId = (await e2e.scim('GET', '/Groups?filter=displayName%20eq%20%22Data%22')).body.Resources[0].id as string;
  const dataGroup = await coderId('group', dataScimId);
  const applied = { ada: ['auditor'], bob: ['organization-admin'], quota: 10, acl: 'use' };
  await waitFor(() => JSON.stringify(coderAccess(adaId, bobId, dataGroup)) === JSON.stringify(applied), WAIT_MS, 'the policy applied');

  // In line with the policy: evaluated, nothing to change.
  const clean = await resync({ dryRun: true });
  expect(clean.policy).toEqual({ evaluated: 4, changed: 0, changes: [], changesOmitted: 0 });

  // Undone by hand in Coder: ada's site role, bob's membership of data, the group's quota and its template access.
  // ada also holds user-admin, which the bridge's record says it granted (as under an earlier policy that did), and
  // template-admin, given by hand: the first is the bridge's to take back, the second stays.
  expect((await api(e2e.sim, 'PUT', `/users/${adaId}/roles`, { roles: ['user-admin', 'template-admin'] })).status).toBe(200);
  const adaSync = (await e2e.store.getSync<AppliedUserState>('user', ada.body.id))!;
  const adaAccess = adaSync.applied!.access!;
  await e2e.store.setSync('user', ada.body.id, { ...adaSync, applied: { ...adaSync.applied!, access: { ...adaAccess, granted: { ...adaAccess.granted, siteRoles: ['auditor', 'user-admin'] } } } });
  expect((await api(e2e.sim, 'DELETE', `/organizations/${dataOrg}/members/${bobId}`)).status).toBe(204);
  expect((await api(e2e.sim, 'PATCH', `/groups/${dataGroup}`, { quota_allowance: 3 })).status).toBe(200);
  expect((await api(e2e.sim, 'PATCH', `/templates/${template}/acl`, { group_perms: { [dataGroup]: '' } })).status).toBe(200);
  const undone = { ada: ['template-admin', 'user-admin'], bob: null, quota: 3, acl: null };
  expect(coderAccess(adaId, bobId, dataGroup)).toEqual(undone);

  const writesBefore = e2e.sim.writeCalls();
  const dry = await resync({ dryRun: true });
  expect(dry.dryRun).toBe(true);
  expect(dry.changed).toBe(0);
  expect(dry.policy).toMatchObject({ evaluated: 4, changed: 3, changesOmitted: 0 });
  expect(dry.policy.changes).toEqual(
    expect.arrayContaining([
      { type: 'Users', id: ada.body.id, name: 'ada', add: [{ siteRole: 'auditor' }], remove: [{ siteRole: 'user-admin' }] },
      { type: 'Users', id: bob.body.id, name: 'bob', add: [{ organization: 'data' }, { organization: 'data', role: 'organization-admin' }], remove: [] },
      { type: 'Groups', id: dataScimId, name: 'Data', add: [{ quotaAllowance: 10 }, { template: 'python-base', access: 'use' }], remove: [] },
    ]),
  );
  // Nothing applied: Coder is as the hand left it, and no write reached it.
  expect(coderAccess(adaId, bobId, dataGroup)).toEqual(undone);
  expect(e2e.sim.writeCalls()).toBe(writesBefore);

  // The CLI prints the same section.
  const lines: string[] = [];
  const queue = new ResyncQueue(redis, e2e.prefix);
  try {
    expect(await runResyncCommand({ dryRun: true, queue, print: (line) => lines.push(line), pollIntervalMs: 50 })).toBe(0);
  } finally {
    await queue.close();
  }
  expect(lines).toEqual(
    expect.arrayContaining([
      'access policy: 3 of 4 users and groups would change',
      `  Users/${ada.body.id} (ada): + site role auditor; - site role user-admin`,
      `  Users/${bob.body.id} (bob): + organization data; + organization data role organization-admin`,
      `  Groups/${dataScimId} (Data): + quota 10; + template python-base use`,
    ]),
  );
  expect(coderAccess(adaId, bobId, dataGroup)).toEqual(undone);

  // Without dryRun the same resync queues the three and they are put back.
  const applying = await resync({});
  expect(applying.policy).toMatchObject({ evaluated: 4, changed: 3 });
  expect(applying.changed).toBeGreaterThanOrEqual(3);
  const reapplied = { ...applied, ada: ['auditor', 'template-admin'] };
  await waitFor(() => JSON.stringify(coderAccess(adaId, bobId, dataGroup)) === JSON.stringify(reapplied), WAIT_MS, 'the policy applied again');
  expect((await resync({ dryRun: true })).policy).toMatchObject({ changed: 0 });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { startBridge } from '../../src/bridge';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import type { CoderSim } from '../coder-sim';
import { api } from '../coder-sim/helpers';
import { oktaUser, startE2E, type E2E } from './harness';
import { waitFor } from '../wait-for';

/**
 * Coder's own IdP sync next to the access policy: with role sync on where the policy grants organization roles,
 * the worker warns at start (in /admin/status, the idp_sync_overlaps metric and one log line per warning), and
 * a resync picks up a setting turned on since; so does a grant Coder refuses because of its sync.
 */

const POLICY = `version: 1
rules:
  - name: entra-auditors
    match: { roles: [Coder.Auditor] }
    grants: { siteRoles: [auditor] }
  - name: coder-admins
    match: { groups: [Admins] }
    grants:
      organizations: [{ name: coder, roles: [organization-admin] }]
  - name: data-teams
    match: { groups: ["data-*"] }
    grants:
      group: { organization: data }
`;

let e2e: E2E;
let sim: CoderSim;
let dir: string;
let dataOrg = '';
const logs: Record<string, any>[] = [];

async function patchSim(path: string, body: unknown): Promise<void> {
  expect((await api(sim, 'PATCH', path, body)).status).toBe(200);
}

async function overlapsMetric(): Promise<number | undefined> {
  const reply = await request(`${e2e.bridge.origin}/metrics`, { headers: { authorization: `Bearer ${e2e.adminToken}` } });
  const match = /^coder_scim_bridge_idp_sync_overlaps (\S+)$/m.exec(await reply.body.text());
  return match ? Number(match[1]) : undefined;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'policy-idp-sync-'));
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.startsWith('{')) logs.push(JSON.parse(line));
      done();
    },
  });
  e2e = await startE2E({
    env: (started) => {
      sim = started;
      dataOrg = sim.direct.createOrganization('data');
      return { ACCESS_POLICY_FILE: join(dir, 'policy.yaml') };
    },
    launch: async (env) => {
      // Turned on before the bridge starts: the worker must see it at its start, not at a later resync.
      await patchSim(`/organizations/${sim.defaultOrgId}/settings/idpsync/roles`, { field: 'roles', mapping: {} });
      return startBridge(loadConfig(env), 'all', createLogger('info', sink));
    },
  });
}, 60_000);

afterAll(async () => {
  await e2e.close();
  rmSync(dir, { recursive: true, force: true });
});

test('role sync on at start: one warning in /admin/status, the metric and the log; a resync finds group sync turned on since', async () => {
  await waitFor(async () => (await e2e.admin('GET', '/status')).body.accessPolicy?.lastCheckedAt != null, 15_000, 'the first IdP sync check');
  const atStart = (await e2e.admin('GET', '/status')).body.accessPolicy;
  expect(atStart).toMatchObject({ file: join(dir, 'policy.yaml'), rules: 3, onSuspend: 'leave', reloadFailure: null, lastCheckError: null });
  expect(atStart.warnings).toEqual([expect.stringMatching(/^organization "coder": Coder's role sync is on \(field "roles"\)/)]);
  expect(await overlapsMetric()).toBe(1);
  expect(logs.filter((line) => line.event === 'idp_sync_overlap').map((line) => [line.level, line.warning])).toEqual([[40, atStart.warnings[0]]]);

  await patchSim(`/organizations/${dataOrg}/settings/idpsync/groups`, { field: 'groups', mapping: {} });
  const accepted = await e2e.admin('POST', '/resync', {});
  expect(accepted.status).toBe(202);
  await waitFor(async () => (await e2e.admin('GET', `/resync/${accepted.body.id}`)).body.state === 'completed', 15_000, 'the resync');
  const afterResync = (await e2e.admin('GET', '/status')).body.accessPolicy;
  expect(afterResync.warnings).toEqual([atStart.warnings[0], expect.stringMatching(/^organization "data": Coder's group sync is on \(field "groups"\)/)]);
  expect(afterResync.lastCheckedAt).toBeGreaterThan(atStart.lastCheckedAt);
  expect(await overlapsMetric()).toBe(2);
});

test('site role sync turned on while running: the refused grant fails permanently naming the setting, and the warning follows at once', async () => {
  sim.direct.setSiteRoleField('roles');
  try {
    const created = await e2e.scim('POST', '/Users', oktaUser('auditor.sync@example.com', 'Audi', 'Tor', { roles: [{ value: 'Coder.Auditor', primary: true }] }));
    expect(created.status).toBe(201);
    const failure = async () => (await e2e.admin('GET', `/resources/Users/${created.body.id}`)).body.sync?.lastError;
    await waitFor(async () => (await failure())?.code === 'idp_sync', 15_000, 'the permanent failure');
    expect(await failure()).toMatchObject({ permanent: true, message: expect.stringContaining('CODER_OIDC_USER_ROLE_FIELD') });
    // No resync asked for: the refusal itself made the worker read Coder's settings again.
    await waitFor(
      async () => ((await e2e.admin('GET', '/status')).body.accessPolicy.warnings as string[]).some((w) => w.startsWith("Coder's site role sync is on")),
      10_000,
      'the site role sync warning',
    );
    const user = sim.users().find((u) => u.email === 'auditor.sync@example.com')!;
    expect(sim.roles(user.id).site).toEqual([]);
    expect(await overlapsMetric()).toBe(3);
  } finally {
    sim.direct.setSiteRoleField('');
  }
});

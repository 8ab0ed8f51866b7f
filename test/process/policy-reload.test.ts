import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { spawnBridge, type BridgeProcess } from '../e2e/bridge-process';
import { freePort, oktaUser, startE2E, type E2E } from '../e2e/harness';
import { waitFor } from '../wait-for';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * ACCESS_POLICY_FILE changed under a running bridge process, mounted the way Kubernetes mounts a ConfigMap
 * (`policy.yaml -> ..data/policy.yaml`, `..data -> ..<version>`, an update swaps `..data`): a valid change
 * replaces the policy and queues every applied user and group again, an invalid one is refused with every
 * problem logged and the policy in use stays, and SIGHUP reloads without killing the process.
 */

const POLICY_V1 = 'version: 1\nrules:\n  - name: admins\n    match: { groups: [Admins] }\n    grants: { siteRoles: [auditor] }\n';
const POLICY_V2 = `${POLICY_V1}  - name: ops\n    match: { roles: [Ops] }\n    grants: { siteRoles: [user-admin] }\n`;
/** Two problems, on two lines. */
const INVALID = 'version: 1\nrules:\n  - name: admins\n    match: { groups: [Admins] }\n    grants: { siteRoles: [emperor] }\n    colour: blue\n';
/** A fixed modification time (whole seconds), so an edit that restores it is invisible to the file watcher. */
const FIXED_TIME = new Date('2026-01-01T00:00:00Z');

let e2e: E2E;
let bridge: BridgeProcess;
let dir: string;
let version = 0;
let launchedEnv: Record<string, string>;
const logs: Record<string, unknown>[] = [];

/** What a kubelet does: the new content in a new directory, then `..data` swapped atomically. */
function publish(text: string): string {
  version += 1;
  const target = `..v${version}`;
  mkdirSync(join(dir, target));
  const file = join(dir, target, 'policy.yaml');
  writeFileSync(file, text);
  utimesSync(file, FIXED_TIME, FIXED_TIME);
  symlinkSync(target, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  return file;
}

function events(name: string): Record<string, any>[] {
  return logs.filter((line) => line.event === name);
}

async function status(): Promise<Record<string, any>> {
  const reply = await e2e.admin('GET', '/status');
  expect(reply.status).toBe(200);
  return reply.body.accessPolicy;
}

async function metric(name: string): Promise<number> {
  const reply = await request(`${e2e.bridge.origin}/metrics`, { headers: { authorization: `Bearer ${e2e.adminToken}` } });
  const text = await reply.body.text();
  return [...text.matchAll(new RegExp(`^coder_scim_bridge_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'policy-configmap-'));
  publish(POLICY_V1);
  symlinkSync('..data/policy.yaml', join(dir, 'policy.yaml'));
  let pending = '';
  e2e = await startE2E({
    env: { ACCESS_POLICY_FILE: join(dir, 'policy.yaml'), LOG_LEVEL: 'debug' },
    launch: async (env) => {
      launchedEnv = env;
      bridge = await spawnBridge(env, (chunk) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
      });
      return bridge;
    },
  });
}, 60_000);

afterAll(async () => {
  await e2e.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a ConfigMap update, an invalid edit and SIGHUP: reloaded, refused, reloaded, and the process lives on', async () => {
  await waitFor(() => events('access_policy_reloaded').some((e) => e.trigger === 'start'), 15_000, 'the policy loaded at start');
  const users = await Promise.all(['ada', 'bob'].map((name) => e2e.scim('POST', '/Users', oktaUser(`${name}@example.com`, name, 'Reload'))));
  const group = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Admins', members: [{ value: users[0].body.id }] });
  expect(group.status).toBe(201);
  await e2e.waitForConvergence(30_000);
  const first = await status();
  expect(first).toMatchObject({ file: join(dir, 'policy.yaml'), rules: 1, onSuspend: 'leave', reloadFailure: null });

  // A valid update: a new rule. Every user and group with a sync record (2 + 1) is queued again, and reconciled.
  const reconcilesBefore = await metric('reconciles_total');
  publish(POLICY_V2);
  await waitFor(() => events('access_policy_reloaded').some((e) => e.trigger === 'file' && e.changed), 20_000, 'the file reload');
  expect(events('access_policy_reloaded').find((e) => e.trigger === 'file' && e.changed)).toMatchObject({ rules: 2, queued: 3, level: 30 });
  await waitFor(async () => (await metric('reconciles_total')) >= reconcilesBefore + 3, 20_000, 'the queued reconciles');
  const second = await status();
  expect(second.rules).toBe(2);
  expect(second.fingerprint).not.toBe(first.fingerprint);
  expect(await metric('access_policy_rules')).toBe(2);

  // An invalid update: refused, one error event naming every problem with its line; the policy in use stays.
  const invalidFile = publish(INVALID);
  await waitFor(() => events('access_policy_reload_failed').length === 1, 20_000, 'the refused reload');
  const failed = events('access_policy_reload_failed')[0];
  expect(failed).toMatchObject({ trigger: 'file', level: 50, fingerprint: second.fingerprint });
  expect(failed.problems).toEqual([expect.stringMatching(/policy\.yaml:5: rules\[0\]\.grants\.siteRoles\[0\]: must be one of/), expect.stringMatching(/policy\.yaml:6: rules\[0\]\.colour: unknown key/)]);
  const third = await status();
  expect(third).toMatchObject({ rules: 2, fingerprint: second.fingerprint, reloadFailure: { problems: failed.problems } });
  expect(await metric('access_policy_reload_failures_total')).toBe(1);

  // An edit the file watcher cannot see (same inode, size and modification time): only SIGHUP applies it.
  const fixed = POLICY_V1.padEnd(readFileSync(invalidFile).length - 1, '#') + '\n';
  writeFileSync(invalidFile, fixed);
  utimesSync(invalidFile, FIXED_TIME, FIXED_TIME);
  expect(statSync(invalidFile).size).toBe(INVALID.length);
  process.kill(bridge.pid(), 'SIGHUP');
  await waitFor(() => events('access_policy_reloaded').some((e) => e.trigger === 'sighup'), 20_000, 'the SIGHUP reload');
  expect(events('access_policy_reloaded').find((e) => e.trigger === 'sighup')).toMatchObject({ changed: true, rules: 1, queued: 3 });
  const fourth = await status();
  expect(fourth).toMatchObject({ rules: 1, fingerprint: first.fingerprint, reloadFailure: null });
  expect((await request(`${e2e.bridge.origin}/healthz`)).statusCode).toBe(200);
  expect(events('shutdown')).toEqual([]);
}, 120_000);

test('a restart with another policy than the workers applied before re-evaluates everything; with the same one, nothing', async () => {
  await bridge.terminate();
  publish(POLICY_V2);
  logs.length = 0;
  await bridge.restart();
  await waitFor(() => events('access_policy_reloaded').some((e) => e.trigger === 'start'), 20_000, 'the start with the new policy');
  expect(events('access_policy_reloaded').find((e) => e.trigger === 'start')).toMatchObject({ changed: true, rules: 2, queued: 3 });

  await bridge.terminate();
  logs.length = 0;
  await bridge.restart();
  await waitFor(() => events('access_policy_reloaded').some((e) => e.trigger === 'start'), 20_000, 'the start with the same policy');
  expect(events('access_policy_reloaded').find((e) => e.trigger === 'start')).toMatchObject({ changed: false, rules: 2, queued: 0 });
}, 120_000);

test('SIGHUP to `serve`, which applies no policy, is logged and ignored: the process lives on', async () => {
  const lines: string[] = [];
  const serve = await spawnBridge({ ...launchedEnv, PORT: String(await freePort()) }, (chunk) => lines.push(chunk), 'serve');
  try {
    process.kill(serve.pid(), 'SIGHUP');
    await waitFor(() => lines.join('').includes('"event":"access_policy_reload_skipped"'), 10_000, 'the skipped reload');
    expect((await request(`${serve.origin}/healthz`)).statusCode).toBe(200);
  } finally {
    await serve.close();
  }
}, 60_000);

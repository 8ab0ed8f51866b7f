import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startCoderSim, type CoderSim } from '../coder-sim';
import { api } from '../coder-sim/helpers';
import { freePort } from '../e2e/harness';
import { FIXED_SCIM_TOKEN } from '../fixtures/tokens';
import { deleteTestKeys, REDIS_URL, testRedis } from '../redis';
import { waitFor } from '../wait-for';

/** `coder-scim-bridge check` and the CLI's usage and configuration errors, run as a real process. */

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
/** The CLI as a process of its own, TypeScript loaded by tsx in that process (the tsx binary would add a second one). */
const CLI = ['--require', 'tsx/cjs', 'src/main.ts'];

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let sim: CoderSim;
beforeAll(async () => {
  sim = await startCoderSim();
});
afterAll(() => sim.close());

const baseEnv = () => ({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token, SCIM_BEARER_TOKEN: FIXED_SCIM_TOKEN, REDIS_URL, REDIS_PREFIX: `cli-test-${randomUUID()}` });

test('check prints one ok line per check and exits 0 against a healthy Coder and Redis', async () => {
  const result = await cli(['check'], baseEnv());
  expect(result.code).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines.map((line) => line.split(':')[0])).toEqual([
    'ok   configuration',
    'ok   redis',
    'ok   coder',
    'ok   coder token',
    'ok   organization',
    'ok   groups licence',
    'ok   access policy',
    'ok   idp sync',
  ]);
  expect(result.stdout).not.toContain(sim.token);
});

test('check fails on a wrong token, names the check, and never prints the token', async () => {
  const wrong = 'AAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBB';
  const result = await cli(['check'], { ...baseEnv(), CODER_SESSION_TOKEN: wrong });
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/^FAIL coder token: /m);
  expect(result.stdout).not.toContain(wrong);
});

test('check warns, without failing, when groups are not licensed', async () => {
  sim.setOptions({ groupsLicensed: false });
  try {
    const result = await cli(['check'], baseEnv());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^warn groups licence: template_rbac not enabled/m);
  } finally {
    sim.setOptions({ groupsLicensed: true });
  }
});

test("check prints each overlap with Coder's own IdP sync as a warning line, without failing", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-policy-'));
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, 'version: 1\nrules:\n  - name: admins\n    match: { groups: [Admins] }\n    grants:\n      organizations: [{ name: coder, roles: [organization-admin] }]\n');
  const patch = (path: string, body: unknown) => api(sim, 'PATCH', path, body);
  await patch(`/organizations/${sim.defaultOrgId}/settings/idpsync/roles`, { field: 'roles', mapping: {} });
  await patch(`/organizations/${sim.defaultOrgId}/settings/idpsync/groups`, { field: 'groups', mapping: {} });
  try {
    const result = await cli(['check'], { ...baseEnv(), ACCESS_POLICY_FILE: file });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^ok   access policy: ${file}: 1 rules, onSuspend leave$`, 'm'));
    expect(result.stdout).toMatch(/^warn idp sync: 2 overlap\(s\) with Coder's own IdP sync/m);
    expect(result.stdout).toMatch(/^warn idp sync: organization "coder": Coder's role sync is on \(field "roles"\)/m);
    expect(result.stdout).toMatch(/^warn idp sync: organization "coder": Coder's group sync is on \(field "groups"\)/m);
  } finally {
    await patch(`/organizations/${sim.defaultOrgId}/settings/idpsync/roles`, { field: '', mapping: {} });
    await patch(`/organizations/${sim.defaultOrgId}/settings/idpsync/groups`, { field: '', mapping: {} });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check fails on an unknown organization and lists the known ones', async () => {
  const result = await cli(['check'], { ...baseEnv(), CODER_ORGANIZATION: 'nope' });
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/^FAIL organization: CODER_ORGANIZATION "nope" not found in Coder \(known: coder\)/m);
});

test('a bad configuration stops with one line per variable and exit code 2', async () => {
  const result = await cli(['serve'], { SCIM_BEARER_TOKEN: 'x', PORT: 'eighty' });
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toEqual(
    expect.arrayContaining([
      'configuration error: CODER_URL is required',
      'configuration error: CODER_SESSION_TOKEN is required',
      expect.stringMatching(/^configuration error: PORT /),
      expect.stringMatching(/^configuration error: SCIM_BEARER_TOKEN must be at least 32 characters/),
    ]),
  );
});

test('resync with Redis unreachable gives up after 10 s with a line naming Redis, and exits 1', async () => {
  const started = Date.now();
  const result = await cli(['resync', '--dry-run'], { ...baseEnv(), REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  expect(result.code).toBe(1);
  expect(result.stdout.trim()).toMatch(/^resync: Redis at redis:\/\/127\.0\.0\.1:\d+\/? did not answer within 10 s$/);
  expect(Date.now() - started).toBeLessThan(30_000);
}, 40_000);

test('an unknown command prints the usage and exits 2', async () => {
  const result = await cli(['frobnicate'], baseEnv());
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('usage: coder-scim-bridge');
});

test('policy check: exit 0 for the shipped example without any configuration, 1 with a bad file, 2 without a file', async () => {
  const ok = await cli(['policy', 'check', 'config/access-policy.example.yaml'], {});
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/^ok config\/access-policy\.example\.yaml: 5 rules/);
  const bad = await cli(['policy', 'check', 'package.json'], {});
  expect(bad.code).toBe(1);
  expect(bad.stdout.trim().split('\n')[0]).toMatch(/^package\.json:\d+: /);
  expect((await cli(['policy', 'check'], {})).code).toBe(2);
});

test('log lines written asynchronously are all flushed when the process exits on SIGTERM', async () => {
  const prefix = `cli-flush-${randomUUID()}`;
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...baseEnv(), PORT: '0', HOST: '127.0.0.1', REDIS_PREFIX: prefix },
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  await waitFor(() => stdout.includes('"event":"redis_connected"'), 30_000, 'the bridge to connect to Redis', 100);
  // 'close', not 'exit': only then has all of the child's stdout been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  const events = stdout.trim().split('\n').map((line) => JSON.parse(line).event);
  expect(events).toEqual(expect.arrayContaining(['redis_connected', 'listening', 'shutdown', 'stopped']));
  expect(events[events.length - 1]).toBe('stopped');
  const redis = testRedis();
  await deleteTestKeys(redis, prefix);
  redis.disconnect();
}, 60_000);

test('SIGTERM while the bridge still waits for Redis stops it cleanly (exit 0, last line "stopped")', async () => {
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...baseEnv(), PORT: '0', HOST: '127.0.0.1', REDIS_URL: `redis://127.0.0.1:${await freePort()}` },
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  await waitFor(() => stdout.includes('"event":"listening"'), 30_000, 'the bridge to listen', 100);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  const events = stdout.trim().split('\n').map((line) => JSON.parse(line).event);
  expect(events).not.toContain('redis_connected');
  expect(events[events.length - 1]).toBe('stopped');
}, 60_000);

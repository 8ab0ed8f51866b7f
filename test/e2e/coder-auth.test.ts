import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { request } from 'undici';
import { startBridge, type Bridge } from '../../src/bridge';
import { createLogger } from '../../src/log';
import { RECONCILE_QUEUE } from '../../src/queue/jobs';
import { oktaUser, startE2E, type E2E } from './harness';
import { waitFor } from '../wait-for';

/**
 * The bridge's Coder token is revoked (a 401 on every call): the worker pauses instead of failing resources,
 * reports coder_auth_failing, and resumes when the rotated token lands in CODER_SESSION_TOKEN_FILE, without a
 * restart. SCIM writes are acknowledged throughout.
 */

let dir: string;
let tokenFile: string;
let e2e: E2E;
let worker: Bridge;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'coder-auth-'));
  tokenFile = join(dir, 'coder-token');
  e2e = await startE2E({
    mode: 'serve',
    env: (sim) => {
      writeFileSync(tokenFile, sim.token);
      return { CODER_SESSION_TOKEN: '', CODER_SESSION_TOKEN_FILE: tokenFile };
    },
  });
  worker = await startBridge(e2e.config, 'worker', createLogger('silent'));
});
afterAll(async () => {
  await worker?.close();
  await e2e?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function readyz(origin: string): Promise<{ status: number; body: unknown }> {
  const reply = await request(`${origin}/readyz`);
  return { status: reply.statusCode, body: await reply.body.json() };
}


async function createUsers(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    expect((await e2e.scim('POST', '/Users', oktaUser(`auth.${i}@example.com`, 'Auth', `User${i}`))).status).toBe(201);
  }
}

async function gauge(bridge: Bridge, name: 'coderAuthFailing' | 'coderUp'): Promise<number | undefined> {
  return (await bridge.metrics[name].get()).values[0]?.value;
}

test('a revoked token pauses reconciles without a permanent failure; the rotated token file resumes them', async () => {
  await createUsers(0, 5);
  await e2e.waitForConvergence(30_000);

  e2e.sim.direct.revokeToken(e2e.sim.token);
  await createUsers(5, 10);
  await waitFor(async () => (await readyz(worker.origin)).status === 503, 30_000, 'the worker reports the refused token');
  expect(await readyz(worker.origin)).toEqual({ status: 503, body: { status: 'unavailable', failing: 'coder_auth' } });
  expect(await gauge(worker, 'coderAuthFailing')).toBe(1);
  // serve keeps taking writes; its own view of Coder says the token fails.
  expect(await readyz(e2e.bridge.origin!)).toEqual({ status: 200, body: { status: 'ok' } });
  await waitFor(async () => (await e2e.admin('GET', '/status')).body.coder.coder_auth_failing === true, 30_000, '/admin/status reports it');

  // A few pause windows: the resources wait, none fails for good, and Coder is not hammered.
  await new Promise((done) => setTimeout(done, 8_000));
  const during = await e2e.admin('GET', '/status');
  expect(during.body.failureCounts).toEqual({ users: 0, groups: 0 });
  const queue = new Queue(RECONCILE_QUEUE, { connection: { url: e2e.config.redis.url }, prefix: e2e.prefix });
  const counts = await queue.getJobCounts('waiting', 'delayed', 'failed');
  await queue.close();
  expect(counts.failed).toBe(0);
  expect((counts.waiting ?? 0) + (counts.delayed ?? 0)).toBeGreaterThan(0);
  const refused = (await worker.metrics.coderRequests.get()).values.filter((v) => v.labels.status === '401').reduce((sum, v) => sum + v.value, 0);
  expect(refused).toBeGreaterThan(0);
  expect(refused).toBeLessThan(60);
  expect(Object.keys(e2e.actualInCoder().users)).toHaveLength(5);

  // The Secret is rotated: a new token in the same file.
  writeFileSync(tokenFile, e2e.sim.direct.createToken(e2e.sim.ownerId));
  const convergedMs = await e2e.waitForConvergence(90_000);
  console.log(`[coder-auth] revoked token: ${refused} refused Coder calls while paused; converged ${convergedMs} ms after the token file was rotated`);
  expect(Object.keys(e2e.actualInCoder().users)).toHaveLength(15);
  expect(await readyz(worker.origin)).toEqual({ status: 200, body: { status: 'ok' } });
  expect(await gauge(worker, 'coderAuthFailing')).toBe(0);
  const after = await e2e.admin('GET', '/status');
  expect(after.body.failureCounts).toEqual({ users: 0, groups: 0 });
  await waitFor(async () => (await e2e.admin('GET', '/status')).body.coder.coder_auth_failing === false, 30_000, '/admin/status reports the token working');
}, 150_000);

test('a token that loses its privileges (403 Forbidden.) pauses reconciles the same way until they are back', async () => {
  e2e.sim.direct.setUserRoles(e2e.sim.ownerId, []);
  await createUsers(100, 3);
  await waitFor(async () => (await readyz(worker.origin)).status === 503, 30_000, 'the worker reports the refused privilege');
  expect(await readyz(worker.origin)).toEqual({ status: 503, body: { status: 'unavailable', failing: 'coder_auth' } });
  expect((await e2e.admin('GET', '/status')).body.failureCounts).toEqual({ users: 0, groups: 0 });

  e2e.sim.direct.setUserRoles(e2e.sim.ownerId, ['owner']);
  await e2e.waitForConvergence(90_000);
  expect(Object.keys(e2e.actualInCoder().users)).toHaveLength(18);
  expect(await readyz(worker.origin)).toEqual({ status: 200, body: { status: 'ok' } });
  expect((await e2e.admin('GET', '/status')).body.failureCounts).toEqual({ users: 0, groups: 0 });
}, 120_000);

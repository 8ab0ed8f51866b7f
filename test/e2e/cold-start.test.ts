import { Queue } from 'bullmq';
import { request } from 'undici';
import { startBridge, type Bridge } from '../../src/bridge';
import { createLogger } from '../../src/log';
import { RECONCILE_QUEUE } from '../../src/queue/jobs';
import { oktaUser, PATCH_OP, startE2E, type E2E } from './harness';
import { waitFor } from '../wait-for';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * A bridge started while Coder is down (the sidecar starts before Coder in its pod; a restart during an
 * outage): it listens at once, takes SCIM writes, keeps them queued, and converges exactly once Coder answers.
 */

const OUTAGE_MS = 4_000;

async function get(origin: string, path: string): Promise<{ status: number; body: any }> {
  const reply = await request(`${origin}${path}`);
  return { status: reply.statusCode, body: await reply.body.json() };
}


/** Ten users and a group of five, acknowledged while Coder is down. */
async function writeWhileCoderIsDown(e2e: E2E): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const created = await e2e.scim('POST', '/Users', oktaUser(`cold.${i}@example.com`, 'Cold', `Start${i}`));
    expect(created.status).toBe(201);
    ids.push(created.body.id);
  }
  const group = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Cold Starters' });
  expect(group.status).toBe(201);
  const patched = await e2e.scim('PATCH', `/Groups/${group.body.id}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: 'add', path: 'members', value: ids.slice(0, 5).map((value) => ({ value })) }],
  });
  expect(patched.status).toBe(204);
}

async function expectQueuedNotFailed(e2e: E2E): Promise<void> {
  const queue = new Queue(RECONCILE_QUEUE, { connection: { url: e2e.config.redis.url }, prefix: e2e.prefix });
  const counts = await queue.getJobCounts('waiting', 'delayed', 'failed');
  await queue.close();
  expect(counts.failed).toBe(0);
  expect((counts.waiting ?? 0) + (counts.delayed ?? 0)).toBeGreaterThan(0);
  expect(e2e.sim.users().filter((user) => user.id !== e2e.sim.ownerId)).toEqual([]);
}

async function expectNoFailure(e2e: E2E): Promise<void> {
  const status = await e2e.admin('GET', '/status');
  expect(status.body.failureCounts).toEqual({ users: 0, groups: 0 });
  expect(status.body.queue.failed).toBe(0);
  expect(status.body.coder).toMatchObject({ up: true, coder_auth_failing: false });
}

describe('all mode', () => {
  let e2e: E2E | undefined;
  afterAll(() => e2e?.close());

  test('started while Coder is down: ready at once, takes SCIM writes, converges exactly after Coder returns', async () => {
    e2e = await startE2E({ sim: { outage: true } });
    expect(await get(e2e.bridge.origin!, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    // Ready: it can acknowledge SCIM writes, which the queue carries until Coder answers.
    expect(await get(e2e.bridge.origin!, '/readyz')).toEqual({ status: 200, body: { status: 'ok' } });

    await writeWhileCoderIsDown(e2e);
    await new Promise((done) => setTimeout(done, OUTAGE_MS));
    await expectQueuedNotFailed(e2e);
    const during = await e2e.admin('GET', '/status');
    expect(during.body.coder).toMatchObject({ up: false, coder_auth_failing: false });
    expect((await e2e.bridge.metrics!.coderUp.get()).values[0]?.value).toBe(0);

    e2e.sim.setOptions({ outage: false });
    await e2e.waitForConvergence(60_000);
    expect(Object.keys(e2e.actualInCoder().users)).toHaveLength(10);
    expect(e2e.actualInCoder().groups['Cold-Starters']?.members).toHaveLength(5);
    await expectNoFailure(e2e);
    expect((await e2e.bridge.metrics!.coderUp.get()).values[0]?.value).toBe(1);
  }, 90_000);
});

describe('serve and worker processes', () => {
  let e2e: E2E | undefined;
  let worker: Bridge | undefined;
  afterAll(async () => {
    await worker?.close();
    await e2e?.close();
  });

  test('a worker started while Coder is down listens, is not ready until the preflight succeeds, then converges', async () => {
    e2e = await startE2E({ mode: 'serve', sim: { outage: true } });
    worker = await startBridge(e2e.config, 'worker', createLogger('silent'));
    expect(await get(worker.origin, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get(worker.origin, '/readyz')).toEqual({ status: 503, body: { status: 'unavailable', failing: 'coder_preflight' } });
    expect(await get(e2e.bridge.origin!, '/readyz')).toEqual({ status: 200, body: { status: 'ok' } });

    await writeWhileCoderIsDown(e2e);
    await new Promise((done) => setTimeout(done, OUTAGE_MS));
    await expectQueuedNotFailed(e2e);
    expect((await get(worker.origin, '/readyz')).status).toBe(503);

    e2e.sim.setOptions({ outage: false });
    await waitFor(async () => (await get(worker!.origin, '/readyz')).status === 200, 30_000, 'the worker is ready');
    await e2e.waitForConvergence(60_000);
    expect(Object.keys(e2e.actualInCoder().users)).toHaveLength(10);
    await expectNoFailure(e2e);
  }, 90_000);
});

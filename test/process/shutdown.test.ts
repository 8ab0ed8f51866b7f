import { connect, type Socket } from 'node:net';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RECONCILE_QUEUE } from '../../src/queue/jobs';
import type { AppliedUser } from '../../src/model/sync';
import { spawnBridge, type BridgeProcess } from '../e2e/bridge-process';
import { oktaUser, startE2E, type E2E } from '../e2e/harness';
import { testRedis } from '../redis';
import { waitFor } from '../wait-for';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * The bridge as a real process, stopped the two ways Kubernetes stops a pod. SIGTERM: requests in flight are
 * answered, active reconciles finish, exit 0 within the 25 s the process allows itself. SIGKILL in the middle of
 * reconciling: nothing acknowledged is lost, and after a restart Coder converges.
 * Coder answers every call after 500 ms, so reconciles are surely running when the signal lands.
 */

const CODER_LATENCY_MS = 500;
const SHUTDOWN_DEADLINE_MS = 25_000;

let e2e: E2E;
let bridge: BridgeProcess;
let queueRedis: Redis;
let queue: Queue;

beforeEach(async () => {
  e2e = await startE2E({
    sim: { latencyMs: CODER_LATENCY_MS },
    // After SIGKILL the reconciles that were running are retried once their lock expires: 2 s, not 10 s.
    env: { WORKER_LOCK_DURATION: '2s' },
    launch: async (env) => {
      bridge = await spawnBridge(env);
      return bridge;
    },
  });
  queueRedis = testRedis();
  queue = new Queue(RECONCILE_QUEUE, { connection: queueRedis, prefix: e2e.prefix });
});

afterEach(async () => {
  await queue.close();
  queueRedis.disconnect();
  await e2e.close();
});

/** Whether a new connection to the bridge is refused: once it is, the shutdown has begun. */
function refusesConnections(): Promise<boolean> {
  const { hostname, port } = new URL(e2e.bridge.origin ?? '');
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function createUsers(tag: string, count: number): Promise<string[]> {
  const replies = await Promise.all(Array.from({ length: count }, (_, i) => e2e.scim('POST', '/Users', oktaUser(`${tag}${i}@example.com`, tag, `User${i}`))));
  expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 201));
  return replies.map((reply) => reply.body.id as string);
}

/** A POST whose body arrives in two halves, so it is surely in flight when the signal lands between them. */
function slowPost(path: string, body: unknown): { headersSent: Promise<void>; finish(): Promise<{ status: number; body: any }> } {
  const { hostname, port } = new URL(e2e.bridge.origin ?? '');
  const payload = Buffer.from(JSON.stringify(body));
  const half = Math.floor(payload.length / 2);
  let socket: Socket;
  let received = '';
  const closed = new Promise<void>((done) => {
    socket = connect(Number(port), hostname);
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('close', () => done());
  });
  const headersSent = new Promise<void>((done) => {
    socket.once('connect', () => {
      socket.write(
        `POST /scim/v2${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${e2e.scimToken}\r\n` +
          `Content-Type: application/scim+json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n`,
      );
      socket.write(payload.subarray(0, half), () => done());
    });
  });
  return {
    headersSent,
    finish: async () => {
      socket.write(payload.subarray(half));
      await closed;
      const [head, ...rest] = received.split('\r\n\r\n');
      return { status: Number(head.split(' ')[1]), body: JSON.parse(rest.join('\r\n\r\n')) };
    },
  };
}

test('SIGTERM: in-flight requests are answered, active reconciles finish, exit 0 within 25 s; the rest resumes after restart', async () => {
  await createUsers('term', 20);
  await waitFor(async () => (await queue.getActiveCount()) > 0, 20_000, 'an active reconcile', 20);
  const slow = slowPost('/Users', oktaUser('in.flight@example.com', 'In', 'Flight'));
  await slow.headersSent;
  const activeAtSignal = (await queue.getActive()).map((job) => job.data as { kind: string; id: string });
  expect(activeAtSignal.length).toBeGreaterThan(0);

  const exit = bridge.terminate();
  await waitFor(refusesConnections, 10_000, 'the bridge to stop accepting connections', 20);
  const inFlight = await slow.finish();
  expect(inFlight.status).toBe(201);
  expect(inFlight.body.userName).toBe('in.flight@example.com');

  expect(await exit).toEqual({ code: 0, signal: null, ms: expect.any(Number) });
  expect((await exit).ms).toBeLessThan(SHUTDOWN_DEADLINE_MS);
  // Every reconcile running at the signal ran to the end: Coder's answer is recorded, no job is left active.
  for (const { kind, id } of activeAtSignal) expect((await e2e.store.getSync<AppliedUser>(kind as 'user', id))?.applied).toBeDefined();
  expect(await queue.getActiveCount()).toBe(0);
  // Not every user reached Coder before the stop: the rest waits in Redis for the next process.
  expect(e2e.sim.users().length - 1).toBeLessThan(21);

  await bridge.restart();
  await e2e.waitForConvergence(30_000);
  expect(Object.keys(e2e.actualInCoder().users)).toHaveLength(21);
}, 80_000);

test('SIGKILL mid-reconcile loses nothing: after a restart Coder converges', async () => {
  const ids = await createUsers('kill', 12);
  const group = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Killed Mid Flight', members: ids.map((value) => ({ value })) });
  expect(group.status).toBe(201);
  await waitFor(async () => e2e.sim.writeCalls() >= 2 && (await queue.getActiveCount()) > 0, 20_000, 'reconciles writing to Coder', 20);
  await bridge.kill();
  const writesBeforeKill = e2e.sim.writeCalls();
  expect(Object.keys(e2e.actualInCoder().users).length).toBeLessThan(12);

  await bridge.restart();
  const ms = await e2e.waitForConvergence(80_000);
  expect(Object.keys(e2e.actualInCoder().users)).toHaveLength(12);
  expect(e2e.actualInCoder().groups['Killed-Mid-Flight'].members).toHaveLength(12);
  console.log(`SIGKILL: converged ${ms} ms after restart; Coder writes ${writesBeforeKill} before the kill, ${e2e.sim.writeCalls()} in all`);
}, 120_000);

import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { startBridge, type Bridge } from '../../src/bridge';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { startCoderSim, type CoderSim } from '../coder-sim';
import { oktaUser } from '../e2e/harness';
import { startRedisCluster, startRedisSentinel, type RedisTopology } from './redis-topology';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * The bridge on Redis HA: a 3-master Redis Cluster (keys and BullMQ queues under one {hash-tag} prefix) and a
 * master behind Sentinel. Each runs a short provisioning end to end: users and a group reach Coder.
 */

const USERS = 6;

async function provisionThrough(topology: RedisTopology, prefix: string): Promise<void> {
  const sim: CoderSim = await startCoderSim();
  const scimToken = `scim-${randomUUID()}`;
  const adminToken = `admin-${randomUUID()}`;
  let bridge: Bridge | undefined;
  expect(await topology.keyCount()).toBe(0);
  try {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_PREFIX: prefix,
      CODER_URL: sim.url,
      CODER_SESSION_TOKEN: sim.token,
      SCIM_BEARER_TOKEN: scimToken,
      ADMIN_TOKEN: adminToken,
      RESYNC_INTERVAL: '0',
      LOG_LEVEL: 'silent',
      ...topology.env,
    });
    bridge = await startBridge(config, 'all', createLogger('silent'));
    const call = async (method: 'GET' | 'POST', path: string, token: string, body?: unknown) => {
      const reply = await request(`${bridge?.origin}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: reply.statusCode, body: (await reply.body.json()) as any };
    };
    const scim = (path: string, body: unknown) => call('POST', `/scim/v2${path}`, scimToken, body);
    const users = await Promise.all(Array.from({ length: USERS }, (_, i) => scim('/Users', oktaUser(`ha${i}@example.com`, 'Ha', `User${i}`))));
    expect(users.map((u) => u.status)).toEqual(users.map(() => 201));
    const group = await scim('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'HA Team', members: users.map((u) => ({ value: u.body.id })) });
    expect(group.status).toBe(201);

    const expected = { users: Array.from({ length: USERS }, (_, i) => `ha${i}@example.com`).sort(), team: USERS };
    const inCoder = () => ({
      users: sim.users().filter((u) => u.id !== sim.ownerId).map((u) => u.email).sort(),
      team: sim.groups().find((g) => g.name === 'HA-Team')?.members.size,
    });
    const started = Date.now();
    while (JSON.stringify(inCoder()) !== JSON.stringify(expected) && Date.now() - started < 20_000) await new Promise((done) => setTimeout(done, 100));
    expect(inCoder()).toEqual(expected);
    expect(await topology.keyCount()).toBeGreaterThan(0);

    // A full resync and the status page read every key family too; in sync, they find nothing to fix.
    const resync = await call('POST', '/admin/resync', adminToken, {});
    expect(resync.status).toBe(202);
    let view = await call('GET', `/admin/resync/${resync.body.id}`, adminToken);
    while (!['completed', 'failed'].includes(view.body.state) && Date.now() - started < 30_000) {
      await new Promise((done) => setTimeout(done, 100));
      view = await call('GET', `/admin/resync/${resync.body.id}`, adminToken);
    }
    expect(view.body.state).toBe('completed');
    const status = await call('GET', '/admin/status', adminToken);
    expect(status.status).toBe(200);
    expect(status.body.managed).toEqual({ users: USERS, groups: 1 });
    expect(inCoder()).toEqual(expected);
  } finally {
    await bridge?.close();
    await sim.close();
  }
}

describe('Redis Cluster (3 masters)', () => {
  let cluster: RedisTopology;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(() => cluster.close());

  test('provisions end to end with REDIS_CLUSTER_NODES and a {hash-tag} prefix', () => provisionThrough(cluster, '{scim-bridge-test}'), 40_000);
});

describe('Redis Sentinel', () => {
  let sentinel: RedisTopology;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  }, 30_000);
  afterAll(() => sentinel.close());

  test('provisions end to end with REDIS_SENTINELS', () => provisionThrough(sentinel, 'scim-bridge-test'), 40_000);
});

import { Queue } from 'bullmq';
import { createAdminRouter } from '../../src/http/admin';
import { ResyncQueue } from '../../src/queue/resync-queue';
import { LastResyncRecord } from '../../src/queue/resync-record';
import type { SyncError } from '../../src/model/sync';
import { strongToken } from '../fixtures/tokens';
import { startScimServer, type ScimServer } from './scim-harness';
import { openTestStore } from './store-fixtures';
import { deleteTestKeys } from '../redis';

/** GET /admin/status, served by the app as the bridge composes it, on a store that manages 10,000 resources, three of them failing permanently. */

const MANAGED = 10_000;
const t = openTestStore();
const reconcileQueue = new Queue('reconcile', { connection: t.redis, prefix: t.prefix });
const resyncQueue = new ResyncQueue(t.redis, t.prefix);
const ADMIN_TOKEN = strongToken('admin');
let server: ScimServer;

const failure = (at: number): SyncError => ({ code: 'coder_http', message: 'Coder said no', coderStatus: 400, permanent: true, at, version: 1 });
const failing = new Map([
  ['user-00042', failure(1)],
  ['user-09998', failure(2)],
]);

beforeAll(async () => {
  const ids = Array.from({ length: MANAGED - 1 }, (_, i) => `user-${String(i).padStart(5, '0')}`);
  for (let i = 0; i < ids.length; i += 1_000) {
    await Promise.all(ids.slice(i, i + 1_000).map((id) => t.store.setSync('user', id, failing.has(id) ? { lastError: failing.get(id) } : { applied: { coderId: `c-${id}` } })));
  }
  await t.store.setSync('group', 'group-1', { lastError: failure(3) });
  const admin = createAdminRouter({ store: t.store, resyncQueue, reconcileQueue, lastResync: new LastResyncRecord(t.redis, t.prefix) });
  server = await startScimServer({ adminToken: ADMIN_TOKEN, admin });
}, 60_000);

afterAll(async () => {
  await server.close();
  await Promise.all([reconcileQueue.close(), resyncQueue.queue.close()]);
  await deleteTestKeys(t.redis, t.prefix);
  t.redis.disconnect();
});

test('reads the sync statuses of the failures only, not of every managed resource', async () => {
  expect(await t.store.syncIds('user')).toHaveLength(MANAGED - 1);
  const syncKeysRead: string[] = [];
  const isSyncKey = (key: unknown) => typeof key === 'string' && key.startsWith(`${t.prefix}:sync:`);
  const get = jest.spyOn(t.redis, 'get');
  const mget = jest.spyOn(t.redis, 'mget');

  const response = await server.call('GET', '/admin/status', { token: ADMIN_TOKEN });
  const body = response.body as { failureCounts: unknown; failures: unknown };

  for (const [key] of get.mock.calls) if (isSyncKey(key)) syncKeysRead.push(key as string);
  for (const [keys] of mget.mock.calls) syncKeysRead.push(...(keys as unknown as string[]).filter(isSyncKey));
  expect(response.status).toBe(200);
  expect(body.failureCounts).toEqual({ users: 2, groups: 1 });
  expect(body.failures).toEqual([
    { type: 'Users', id: 'user-00042', error: failing.get('user-00042') },
    { type: 'Users', id: 'user-09998', error: failing.get('user-09998') },
    { type: 'Groups', id: 'group-1', error: failure(3) },
  ]);
  expect(syncKeysRead.sort()).toEqual([t.keys.sync('group', 'group-1'), t.keys.sync('user', 'user-00042'), t.keys.sync('user', 'user-09998')].sort());
});

import { createAdminRouter } from '../../src/http/admin';
import { createQueueMetricsRefresher } from '../../src/queue/queue-metrics';
import type { SyncError } from '../../src/model/sync';
import { strongToken } from '../fixtures/tokens';
import { openResyncHarness, type ResyncHarness } from './resync-harness';
import { startScimServer, type ScimServer } from './scim-harness';

/** The admin API as the bridge serves it (the app, its body parser and the admin token), over real Redis, the simulator and the real workers. */

const ADMIN_TOKEN = strongToken('admin');

let h: ResyncHarness;
let server: ScimServer;
let alice: string;
let engineering: string;

interface Reply {
  status: number;
  body: any;
}

async function call(method: string, path: string, body?: unknown, raw?: string): Promise<Reply> {
  const reply = await server.call(method, `/admin${path}`, { token: ADMIN_TOKEN, body, raw });
  return { status: reply.status, body: reply.body };
}

function permanentError(version: number): SyncError {
  return { code: 'coder_http', message: 'Coder said no', coderStatus: 400, permanent: true, at: Date.now(), version };
}

beforeEach(async () => {
  h = await openResyncHarness();
  h.startReconcileWorker();
  alice = await h.addUser('alice');
  await h.settle();
  engineering = await h.addGroup('Engineering', [alice]);
  await h.settle();
  const admin = createAdminRouter({ store: h.store, resyncQueue: h.resyncQueue, reconcileQueue: h.reconcileQueue, lastResync: h.lastResync });
  server = await startScimServer({ adminToken: ADMIN_TOKEN, admin });
});

afterEach(async () => {
  await server.close();
  await h.close();
});

describe('POST /resync', () => {
  test.each([
    [{ dryRun: 'yes' }, /dryRun must be true or false/],
    [{ resource: 'Widgets/1' }, /resource must be "Users\/<id>" or "Groups\/<id>"/],
    [{ resource: 42 }, /resource must be a string/],
    [{ dryrun: true }, /unknown field\(s\): dryrun/],
  ])('a bad body %j is a 400 saying what is wrong', async (body, message) => {
    const reply = await call('POST', '/resync', body);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_request');
    expect(reply.body.message).toMatch(message);
  });

  test('malformed JSON is a 400 from the body parser the app runs before the admin router', async () => {
    const reply = await call('POST', '/resync', undefined, '{"dryRun": tru');
    expect(reply).toEqual({ status: 400, body: expect.objectContaining({ status: '400', scimType: 'invalidSyntax', detail: 'The request body is not valid JSON' }) });
    expect(await h.resyncQueue.queue.getJobCounts()).toEqual(expect.objectContaining({ waiting: 0, active: 0 }));
  });

  test('a resource the bridge does not know is a 404', async () => {
    const reply = await call('POST', '/resync', { resource: 'Users/no-such-user' });
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({ error: 'not_found', message: 'Users/no-such-user is not managed by the bridge' });
  });

  test('a dry run is accepted with 202 {id}, and GET /resync/:id follows it to its report', async () => {
    const groupCoderId = (await h.groupSync(engineering))!.applied!.coderId;
    h.sim.direct.renameGroup(groupCoderId, 'renamed');
    await h.startResyncWorker();

    const accepted = await call('POST', '/resync', { dryRun: true });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ id: expect.any(String) });
    expect((await call('POST', '/resync', { dryRun: true })).body.id).toBe(accepted.body.id);

    await h.waitForJob(accepted.body.id);
    const view = await call('GET', `/resync/${accepted.body.id}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      id: accepted.body.id,
      state: 'completed',
      request: { dryRun: true },
      progress: { phase: 'done', checked: 2, drifted: 1, changed: 0, failed: 0 },
      result: {
        dryRun: true,
        operations: [{ type: 'Groups', id: engineering, differences: ['name'], operations: [{ op: 'patchGroup', name: 'Engineering', add_users: [], remove_users: [] }] }],
      },
    });
  });

  test('a one-resource resync is accepted for a known resource', async () => {
    await h.startResyncWorker();
    const accepted = await call('POST', '/resync', { resource: `Users/${alice}` });
    expect(accepted.status).toBe(202);
    const view = await h.waitForJob(accepted.body.id);
    expect(view.result).toMatchObject({ resource: `Users/${alice}`, checked: 1, drifted: 0 });
  });
});

test('GET /resync/:id of an unknown job is a 404', async () => {
  const reply = await call('GET', '/resync/12345');
  expect(reply.status).toBe(404);
  expect(reply.body.error).toBe('not_found');
});

test('GET /status reports the queue, the last resync, the managed counts and the failures', async () => {
  const version = (await h.store.getUser(alice))!.version;
  const sync = (await h.userSync(alice))!;
  await h.store.setSync('user', alice, { ...sync, lastError: permanentError(version) });
  await h.startResyncWorker();

  const failing = await call('GET', '/status');
  expect(failing.status).toBe(200);
  expect(failing.body).toEqual({
    queue: { waiting: 0, active: 0, delayed: 0, failed: 0 },
    lastResync: null,
    managed: { users: 1, groups: 1 },
    failureCounts: { users: 1, groups: 0 },
    failures: [{ type: 'Users', id: alice, error: expect.objectContaining({ code: 'coder_http', permanent: true, coderStatus: 400 }) }],
  });

  // A full resync retries the failure with force (it clears: Coder is fine now) and is recorded.
  const job = await h.resync({ dryRun: false });
  await h.settle();
  const repaired = await call('GET', '/status');
  expect(repaired.body.lastResync).toMatchObject({ jobId: job.id, ok: true, result: { checked: 2, retriedFailures: 1 } });
  expect(repaired.body.failureCounts).toEqual({ users: 0, groups: 0 });
  expect(repaired.body.failures).toEqual([]);
});

describe('GET /resources/:type/:id', () => {
  test('a user: desired document, what was applied to Coder, and no pending change', async () => {
    const reply = await call('GET', `/resources/Users/${alice}`);
    expect(reply.status).toBe(200);
    const coderId = (await h.userSync(alice))!.applied!.coderId;
    expect(reply.body).toMatchObject({
      type: 'Users',
      id: alice,
      desired: { version: expect.any(Number), doc: { id: alice, userName: 'alice' } },
      sync: { applied: { coderId, username: 'alice', email: 'alice@example.com' }, lastError: null, notes: [], deleted: false },
      pending: null,
    });
    expect(reply.body.sync.appliedVersion).toBe(reply.body.desired.version);
  });

  test('a group shows its member ids; a pending change shows its version', async () => {
    const stored = await h.store.updateGroup(engineering, (current) => ({ doc: { ...current.doc, displayName: 'Eng' }, fields: { displayName: 'Eng' } }));
    const reply = await call('GET', `/resources/Groups/${engineering}`);
    expect(reply.status).toBe(200);
    expect(reply.body.desired).toMatchObject({ memberIds: [alice], doc: { displayName: 'Eng' } });
    expect(reply.body.pending).toEqual({ version: stored.version });
  });

  test('an unknown type or id is a 404', async () => {
    expect(await call('GET', `/resources/Widgets/${alice}`)).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await call('GET', '/resources/Users/nobody')).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });
});

test('the queue metrics refresher sets queue, failure and last-resync gauges from Redis', async () => {
  const version = (await h.store.getGroup(engineering))!.version;
  await h.store.setSync('group', engineering, { ...(await h.groupSync(engineering))!, lastError: permanentError(version) });
  await h.lastResync.write({ at: 1_700_000_000_000, jobId: 'x', ok: true });
  await h.reconcileQueue.add('user', { kind: 'user', id: 'later' }, { delay: 60_000 });
  let now = 0;
  const refresh = createQueueMetricsRefresher({ metrics: h.metrics, reconcileQueue: h.reconcileQueue, store: h.store, lastResync: h.lastResync, now: () => now });

  await refresh();
  const text = await h.metrics.registry.metrics();
  expect(text).toContain('coder_scim_bridge_permanent_failures{kind="group"} 1');
  expect(text).toContain('coder_scim_bridge_permanent_failures{kind="user"} 0');
  expect(text).toContain('coder_scim_bridge_last_resync_success_timestamp_seconds 1700000000');
  expect(text).toContain('coder_scim_bridge_queue_jobs{state="delayed"} 1');
  expect(text).toContain('coder_scim_bridge_queue_jobs{state="failed"} 0');

  // The failure scan is not repeated within its interval, then is.
  await h.store.setSync('user', alice, { ...(await h.userSync(alice))!, lastError: permanentError(1) });
  await refresh();
  expect(await h.metrics.registry.metrics()).toContain('coder_scim_bridge_permanent_failures{kind="user"} 0');
  now += 61_000;
  await refresh();
  expect(await h.metrics.registry.metrics()).toContain('coder_scim_bridge_permanent_failures{kind="user"} 1');
});

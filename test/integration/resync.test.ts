import { openResyncHarness, type ResyncHarness } from './resync-harness';

/** Full resync against real Redis, the Coder simulator and the real workers: drift made directly in Coder. */

let h: ResyncHarness;
let alice: string;
let bob: string;
let carol: string;
let engineering: string;

/** BullMQ's job id counter: it moves with every job added, whatever happens to the job after. */
async function reconcileJobsAdded(): Promise<number> {
  return Number((await h.redis.get(`${h.prefix}:reconcile:id`)) ?? 0);
}

function coderUser(username: string) {
  return h.sim.users().find((u) => u.username === username && !u.deleted);
}

function coderGroupOf(coderId: string) {
  return h.sim.groups().find((g) => g.id === coderId);
}

beforeEach(async () => {
  h = await openResyncHarness();
  h.startReconcileWorker();
  alice = await h.addUser('alice');
  bob = await h.addUser('bob');
  carol = await h.addUser('carol');
  await h.settle();
  engineering = await h.addGroup('Engineering', [alice, bob, carol]);
  await h.settle();
  expect(coderGroupOf((await h.groupSync(engineering))!.applied!.coderId)?.members.size).toBe(3);
});

afterEach(async () => {
  await h.close();
});

/** A user deleted, a member removed and the group renamed, all behind the bridge's back. */
async function introduceDrift(): Promise<{ groupCoderId: string }> {
  const groupCoderId = (await h.groupSync(engineering))!.applied!.coderId;
  h.sim.direct.deleteUser((await h.userSync(alice))!.applied!.coderId);
  h.sim.direct.removeGroupMember(groupCoderId, (await h.userSync(bob))!.applied!.coderId);
  h.sim.direct.renameGroup(groupCoderId, 'renamed-in-coder');
  return { groupCoderId };
}

test('drift made in Coder (user deleted, member removed, group renamed) is repaired by a resync', async () => {
  const { groupCoderId } = await introduceDrift();
  await h.startResyncWorker();

  const job = await h.resync({ dryRun: false });
  expect(job.state).toBe('completed');
  expect(job.result).toMatchObject({ dryRun: false, checked: 4, drifted: 2, changed: 2, failed: 0 });
  expect(job.result!.operations).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ type: 'Users', id: alice, differences: ['missing'] }),
      expect.objectContaining({ type: 'Groups', id: engineering, differences: ['name', 'members'] }),
    ]),
  );
  await h.settle();

  const newAlice = coderUser('alice');
  expect(newAlice).toBeDefined();
  expect(newAlice!.email).toBe('alice@example.com');
  expect((await h.userSync(alice))!.applied!.coderId).toBe(newAlice!.id);
  const group = coderGroupOf(groupCoderId)!;
  expect(group.name).toBe('Engineering');
  const expectedMembers = await Promise.all([alice, bob, carol].map(async (id) => (await h.userSync(id))!.applied!.coderId));
  expect([...group.members].sort()).toEqual(expectedMembers.sort());

  // Converged: a second resync finds nothing.
  const again = await h.resync({ dryRun: false });
  expect(again.result).toMatchObject({ drifted: 0, changed: 0, failed: 0 });
});

test('a dry run reports the drift and the planned operations, and changes nothing', async () => {
  const { groupCoderId } = await introduceDrift();
  const syncsBefore = await Promise.all([h.userSync(alice), h.userSync(bob), h.groupSync(engineering)]);
  await h.startResyncWorker();
  h.sim.resetCalls();
  const jobsBefore = await reconcileJobsAdded();
  expect(jobsBefore).toBeGreaterThan(0);

  const job = await h.resync({ dryRun: true });
  expect(job.state).toBe('completed');
  expect(job.result).toMatchObject({ dryRun: true, drifted: 2, changed: 0 });
  const aliceOps = job.result!.operations.find((o) => o.id === alice);
  expect(aliceOps?.operations.map((o) => o.op)).toEqual(['createUser']);
  const groupOps = job.result!.operations.find((o) => o.id === engineering);
  // Alice has no Coder user yet, so only bob is planned back; alice's group follows her creation.
  expect(groupOps?.operations).toEqual([
    { op: 'patchGroup', name: 'Engineering', add_users: [syncsBefore[1]!.applied!.coderId], remove_users: [] },
  ]);

  expect(h.sim.writeCalls()).toBe(0);
  expect(await Promise.all([h.userSync(alice), h.userSync(bob), h.groupSync(engineering)])).toEqual(syncsBefore);
  expect(await reconcileJobsAdded()).toBe(jobsBefore);
  expect(coderGroupOf(groupCoderId)!.name).toBe('renamed-in-coder');
  expect(coderUser('alice')).toBeUndefined();
});

test('with no drift a resync only reads, about one call per page, and writes nothing', async () => {
  for (const name of ['dave', 'erin', 'frank', 'grace']) await h.addUser(name);
  await h.settle();
  const syncsBefore = await Promise.all([alice, bob, carol].map((id) => h.userSync(id)));
  await h.startResyncWorker({ pageSize: 3 });
  h.sim.resetCalls();
  const jobsBefore = await reconcileJobsAdded();

  const job = await h.resync({ dryRun: false });
  expect(job.result).toMatchObject({ checked: 8, drifted: 0, changed: 0, failed: 0 });

  const calls = h.sim.calls();
  expect(h.sim.writeCalls()).toBe(0);
  // 8 users (7 managed + the owner) in pages of 3: 3 pages of users, 3 of members, 1 list of groups, and
  // GET /users/me: the token's own user, which the bridge never changes.
  const userPages = Math.ceil(h.sim.users().filter((u) => !u.deleted).length / 3);
  expect(calls).toEqual({
    'GET /api/v2/users': userPages,
    'GET /api/v2/organizations/{org}/paginated-members': userPages,
    'GET /api/v2/organizations/{org}/groups': 1,
    'GET /api/v2/users/{user}': 1,
  });
  expect(await Promise.all([alice, bob, carol].map((id) => h.userSync(id)))).toEqual(syncsBefore);
  expect(await reconcileJobsAdded()).toBe(jobsBefore);
});

test('Coder users and groups the bridge does not manage are reported and left alone', async () => {
  const outsider = h.sim.direct.createUser({ username: 'outsider', email: 'outsider@example.com', status: 'active', orgIds: [h.sim.defaultOrgId] });
  const outsiders = h.sim.direct.createGroup({ name: 'outsiders' });
  h.sim.direct.addGroupMember(outsiders.id, outsider.id);
  await h.startResyncWorker();
  h.sim.resetCalls();

  const job = await h.resync({ dryRun: false });
  await h.settle();

  expect(job.result!.unmanaged.users).toEqual(
    expect.arrayContaining([
      { id: outsider.id, username: 'outsider', email: 'outsider@example.com', status: 'active' },
      expect.objectContaining({ id: h.sim.ownerId }),
    ]),
  );
  expect(job.result!.unmanaged.userCount).toBe(2);
  expect(job.result!.unmanaged.groups).toEqual([{ id: outsiders.id, name: 'outsiders', displayName: '', memberCount: 1 }]);
  expect(h.sim.writeCalls()).toBe(0);
  const after = h.sim.users().find((u) => u.id === outsider.id)!;
  expect(after).toMatchObject({ deleted: false, status: 'active', username: 'outsider' });
  expect(h.sim.groups().find((g) => g.id === outsiders.id)?.members.has(outsider.id)).toBe(true);
});

test('a one-resource resync repairs that resource only', async () => {
  const { groupCoderId } = await introduceDrift();
  await h.startResyncWorker();
  h.sim.resetCalls();

  const job = await h.resync({ dryRun: false, resource: `Users/${alice}` });
  expect(job.result).toMatchObject({ resource: `Users/${alice}`, checked: 1, drifted: 1, changed: 1 });
  await h.settle();

  expect(coderUser('alice')).toBeDefined();
  // The resync read one user; no listing. The writes are the reconcile recreating alice and re-adding her; the
  // group reconcile may read its one group when Coder refuses to remove alice's deleted account (full-diff recovery).
  const reads = Object.keys(h.sim.calls()).filter((route) => route.startsWith('GET'));
  expect(reads).toContain('GET /api/v2/users/{user}');
  expect(reads.filter((route) => route !== 'GET /api/v2/users/{user}' && route !== 'GET /api/v2/groups/{group}')).toEqual([]);
  // The group's own drift (the rename) waits for its own or a full resync.
  expect(coderGroupOf(groupCoderId)!.name).toBe('renamed-in-coder');
});

test('a permanently failed resource is retried with force', async () => {
  const sync = (await h.userSync(carol))!;
  const version = (await h.store.getUser(carol))!.version;
  await h.store.setSync('user', carol, { ...sync, lastError: { code: 'coder_http', message: 'simulated', coderStatus: 400, permanent: true, at: Date.now(), version } });
  await h.startResyncWorker();

  const job = await h.resync({ dryRun: false });
  expect(job.result).toMatchObject({ drifted: 0, retriedFailures: 1, changed: 1 });
  await h.settle();
  expect((await h.userSync(carol))!.lastError).toBeUndefined();
});

test('a finished full resync is recorded in Redis and sets the last-success metric', async () => {
  await h.startResyncWorker();
  const before = Date.now();
  const job = await h.resync({ dryRun: false });

  const last = await h.lastResync.read();
  expect(last).toMatchObject({ jobId: job.id, ok: true, result: { checked: 4, drifted: 0, failed: 0 } });
  expect(last!.lastSuccessAt).toBeGreaterThanOrEqual(before);
  const gauge = await h.metrics.lastResyncSuccess.get();
  expect(gauge.values[0].value).toBe(last!.lastSuccessAt! / 1000);

  // A dry run is not a full resync of the deployment: the record stays.
  await h.resync({ dryRun: true });
  expect(await h.lastResync.read()).toEqual(last);
});

import { createLogger } from '../../src/log';
import { PendingSweep } from '../../src/queue/pending-sweep';
import type { ReconcileRequest } from '../../src/queue/producer';
import { PendingChanges } from '../../src/store/pending-changes';
import { groupDoc, openTestStore, userDoc, type TestStore } from './store-fixtures';
import { deleteTestKeys } from '../redis';

/**
 * The pending sweep re-queues what was written but never queued. It reads only the changes since it last ran
 * (not every pending mark), and one worker per interval runs it.
 */

let t: TestStore;
let queued: ReconcileRequest[];
const producer = { enqueueMany: async (items: ReconcileRequest[]) => void queued.push(...items) };
const logger = createLogger('silent');

beforeEach(() => {
  t = openTestStore();
  queued = [];
});
afterEach(async () => {
  await deleteTestKeys(t.redis, t.prefix);
  t.redis.disconnect();
});

function sweep(options: { intervalMs?: number; graceMs?: number } = {}): PendingSweep {
  return new PendingSweep({ changes: new PendingChanges(t.redis, t.prefix), redis: t.redis, prefix: t.prefix, producer, logger, intervalMs: options.intervalMs ?? 200, graceMs: options.graceMs ?? 0 });
}

async function createUser(name: string): Promise<string> {
  return (await t.store.createUser(userDoc(name), { userName: name, emails: [] })).doc.id;
}

async function nextInterval(): Promise<void> {
  await new Promise((done) => setTimeout(done, 250));
}

test('re-queues the changed resources still pending, then forgets them: the next sweep reads nothing', async () => {
  const [a, b, c] = [await createUser('sweep-a'), await createUser('sweep-b'), await createUser('sweep-c')];
  const group = (await t.store.createGroup(groupDoc('Sweepers'), { displayName: 'Sweepers' }, [a])).doc.id;
  // b was reconciled (its mark cleared): it needs nothing.
  const bVersion = (await t.store.getUser(b))!.version;
  await t.store.clearPending('user', b, bVersion);

  expect(await sweep().sweepOnce()).toBe(3);
  expect(queued).toEqual(expect.arrayContaining([{ kind: 'user', id: a }, { kind: 'user', id: c }, { kind: 'group', id: group }]));
  expect(queued).toHaveLength(3);
  expect(await t.redis.zcard(t.keys.pendingChanges())).toBe(0);

  // Nothing changed since: a sweep finds nothing, although three marks are still pending.
  await nextInterval();
  queued = [];
  expect(await sweep().sweepOnce()).toBe(0);
  expect(queued).toEqual([]);
  expect(await t.store.pending()).toHaveLength(3);

  // One change, one resource re-queued.
  await t.store.deleteUser(c);
  await nextInterval();
  expect(await sweep().sweepOnce()).toBe(1);
  expect(queued).toEqual([{ kind: 'user', id: c }]);
});

test('one sweep per interval across all workers', async () => {
  await createUser('sweep-once');
  const results = await Promise.all([sweep({ intervalMs: 60_000 }), sweep({ intervalMs: 60_000 }), sweep({ intervalMs: 60_000 })].map((s) => s.sweepOnce()));
  expect(results.filter((r) => r === undefined)).toHaveLength(2);
  expect(results.filter((r) => r === 1)).toHaveLength(1);
  expect(queued).toHaveLength(1);
});

test('a change younger than the grace period is left to the request that made it, and swept later', async () => {
  const id = await createUser('sweep-young');
  expect(await sweep({ graceMs: 60_000 }).sweepOnce()).toBe(0);
  expect(await t.redis.zcard(t.keys.pendingChanges())).toBe(1);
  await nextInterval();
  expect(await sweep({ graceMs: 0 }).sweepOnce()).toBe(1);
  expect(queued).toEqual([{ kind: 'user', id }]);
});

test('cost: the sweep reads the changes since the last one, not every pending mark', async () => {
  for (let i = 0; i < 300; i++) await createUser(`sweep-bulk-${i}`);
  expect(await sweep().sweepOnce()).toBe(300);
  await createUser('sweep-late');
  await nextInterval();
  const read = jestSpyOnRange();
  queued = [];
  expect(await sweep().sweepOnce()).toBe(1);
  expect(read.members).toBe(1);
  expect(await t.store.pending()).toHaveLength(301);
});

/** Counts the members the sweep reads from the change index. */
function jestSpyOnRange(): { members: number } {
  const seen = { members: 0 };
  const original = t.redis.zrangebyscore.bind(t.redis);
  jest.spyOn(t.redis, 'zrangebyscore').mockImplementation((async (...args: Parameters<typeof original>) => {
    const members = await original(...args);
    seen.members += members.length;
    return members;
  }) as typeof original);
  return seen;
}

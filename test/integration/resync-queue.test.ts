import { randomUUID } from 'node:crypto';
import { runResyncCommand } from '../../src/cli/resync';
import { PERIODIC_RESYNC_SCHEDULER } from '../../src/queue/resync-queue';
import { waitFor } from '../wait-for';
import { openResyncHarness, type ResyncHarness } from './resync-harness';

/** The resync queue: one full resync at a time, the periodic schedule, and the CLI that follows a job. */

let h: ResyncHarness;

beforeEach(async () => {
  h = await openResyncHarness();
  h.startReconcileWorker();
  await h.addUser('alice');
  await h.settle();
});

afterEach(async () => {
  await h.close();
});

test('a second request for a full resync returns the one waiting; other kinds of request get their own job', async () => {
  const first = await h.resyncQueue.request({ dryRun: false });
  const second = await h.resyncQueue.request({ dryRun: false });
  const dryRun = await h.resyncQueue.request({ dryRun: true });
  expect(second.id).toBe(first.id);
  expect(dryRun.id).not.toBe(first.id);
  expect(await h.resyncQueue.queue.getWaitingCount()).toBe(2);

  await h.startResyncWorker();
  expect((await h.waitForJob(first.id)).state).toBe('completed');
  // Once the first has finished, a new request is a new resync.
  const third = await h.resyncQueue.request({ dryRun: false });
  expect(third.id).not.toBe(first.id);
  expect((await h.waitForJob(third.id)).state).toBe('completed');
});

test('a request made while a full resync runs returns the running one', async () => {
  h.sim.setOptions({ latencyMs: 300 });
  await h.startResyncWorker();
  const first = await h.resyncQueue.request({ dryRun: false });
  await waitFor(async () => (await h.resyncQueue.view(first.id))?.state === 'active', 10_000, 'the resync to start');
  expect((await h.resyncQueue.request({ dryRun: false })).id).toBe(first.id);
  await h.waitForJob(first.id);
});

test('with several worker processes, resyncs still run one at a time', async () => {
  h.sim.setOptions({ latencyMs: 100 });
  await h.startResyncWorker();
  await h.startResyncWorker();
  const ids = [
    (await h.resyncQueue.request({ dryRun: false })).id,
    (await h.resyncQueue.request({ dryRun: true })).id,
    (await h.resyncQueue.request({ dryRun: true, resource: `Users/${(await h.store.listUsers(0, 1)).ids[0]}` })).id,
  ];
  for (const id of ids) expect((await h.waitForJob(id)).state).toBe('completed');

  const runs = await Promise.all(ids.map(async (id) => (await h.resyncQueue.queue.getJob(id))!));
  const spans = runs.map((job) => [job.processedOn!, job.finishedOn!]).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
});

test('the periodic resync is scheduled once however many replicas ask, and removed with an interval of 0', async () => {
  await h.resyncQueue.schedulePeriodic(60_000);
  await h.resyncQueue.schedulePeriodic(60_000);
  const schedulers = await h.resyncQueue.queue.getJobSchedulers();
  expect(schedulers.map((s) => [s.key, s.every])).toEqual([[PERIODIC_RESYNC_SCHEDULER, 60_000]]);

  await h.resyncQueue.schedulePeriodic(0);
  expect(await h.resyncQueue.queue.getJobSchedulers()).toEqual([]);
});

test('the periodic schedule runs full resyncs', async () => {
  await h.startResyncWorker();
  await h.resyncQueue.schedulePeriodic(200);
  await waitFor(async () => (await h.lastResync.read()) !== null, 10_000, 'a scheduled resync to finish');
  await h.resyncQueue.schedulePeriodic(0);
  const last = await h.lastResync.read();
  expect(last).toMatchObject({ ok: true, result: { checked: 1 } });
  expect(last!.jobId).toMatch(/^repeat/);
});

describe('runResyncCommand', () => {
  test('queues a resync, prints progress and the report, and exits 0', async () => {
    await h.startResyncWorker();
    h.sim.direct.createUser({ username: 'outsider', email: 'outsider@example.com' });
    const lines: string[] = [];
    const code = await runResyncCommand({ dryRun: true, queue: h.resyncQueue, print: (line) => lines.push(line), pollIntervalMs: 20 });

    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^resync job \S+ queued \(dry run\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^resync \(dry run\) finished in \d+ ms: checked 1, drifted 0, changed 0, failed 0/));
    expect(lines).toContain('unmanaged in Coder (not touched): 2 users, 0 groups');
    expect(lines).toContain('  user outsider <outsider@example.com> (dormant)');
    // One line per change of progress, never the same line twice in a row.
    expect(lines.every((line, i) => i === 0 || line !== lines[i - 1])).toBe(true);
  });

  test('exits non-zero when the resync fails', async () => {
    await h.startResyncWorker();
    const lines: string[] = [];
    const code = await runResyncCommand({ dryRun: false, resource: `Users/${randomUUID()}`, queue: h.resyncQueue, print: (line) => lines.push(line), pollIntervalMs: 20 });
    expect(code).toBe(1);
    expect(lines[lines.length - 1]).toMatch(/^resync failed: Users\/\S+ is not managed by the bridge$/);
  });

  test('with no worker running, gives up after the start timeout with a clear line and exits 1', async () => {
    const lines: string[] = [];
    const started = Date.now();
    const code = await runResyncCommand({ dryRun: true, queue: h.resyncQueue, print: (line) => lines.push(line), pollIntervalMs: 20, startTimeoutMs: 300 });
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines[lines.length - 1]).toMatch(/^resync job \S+ was not started within 300 ms: no bridge worker is running \(start one with "coder-scim-bridge worker" or "all"/);
  });
});

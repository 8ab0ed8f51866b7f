import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { CoderClient } from '../../src/coder/client';
import { createLogger } from '../../src/log';
import { createMetrics, type Metrics } from '../../src/metrics';
import { RECONCILE_QUEUE, type ReconcileJobData } from '../../src/queue/jobs';
import { ReconcileProducer } from '../../src/queue/producer';
import { startReconcileWorker } from '../../src/queue/worker';
import { tokenUserIdOf } from '../../src/reconcile/adoption';
import { parseAdoptGroups } from '../../src/model/adopt-groups';
import { GroupReconciler } from '../../src/reconcile/group-reconciler';
import type { AppliedGroupState, AppliedUserState, PlanContext } from '../../src/reconcile/plan';
import { UserReconciler } from '../../src/reconcile/user-reconciler';
import { ClaimIndex } from '../../src/store/claims';
import type { ScimDocument } from '../../src/model/resource';
import { startCoderSim, type CoderSim } from '../coder-sim';
import { openTestStore, type TestStore } from './store-fixtures';
import { deleteTestKeys, testRedis } from '../redis';
import { waitFor } from '../wait-for';

/** The BullMQ worker end to end: producer -> queue -> worker -> reconcilers -> Coder simulator. */

interface LogLine {
  event?: string;
  jobId?: string;
  kind?: string;
  id?: string;
  outcome?: string;
  durationMs?: number;
}

let t: TestStore;
let sim: CoderSim;
let coder: CoderClient;
let bullmq: Redis;
let producer: ReconcileProducer;
let inspector: Queue<ReconcileJobData>;
let worker: Worker<ReconcileJobData> | undefined;
let lines: LogLine[];
let metrics: Metrics;

beforeEach(async () => {
  t = openTestStore();
  sim = await startCoderSim();
  coder = new CoderClient({ url: sim.url, token: sim.token, timeoutMs: 5_000, retries: 0 });
  bullmq = testRedis({ maxRetriesPerRequest: null });
  producer = new ReconcileProducer(bullmq, t.prefix);
  inspector = new Queue<ReconcileJobData>(RECONCILE_QUEUE, { connection: bullmq, prefix: t.prefix });
  lines = [];
  metrics = createMetrics({ defaultMetrics: false });
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await producer.close();
  await inspector.close();
  await coder.close();
  await sim.close();
  await deleteTestKeys(t.redis, t.prefix);
  t.redis.disconnect();
  bullmq.disconnect();
});

function start(): void {
  const { store } = t;
  const claims = new ClaimIndex(t.redis, t.prefix);
  const ctx: PlanContext = { deletePolicy: 'suspend', loginType: 'oidc', orgId: sim.defaultOrgId };
  const deps = { store, claims, queue: producer, coder, ctx, adoption: { tokenUserId: tokenUserIdOf(coder), groups: parseAdoptGroups(undefined) } };
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as LogLine);
      done();
    },
  });
  worker = startReconcileWorker({
    connection: bullmq,
    prefix: t.prefix,
    concurrency: 4,
    reconcilers: { user: new UserReconciler(deps), group: new GroupReconciler({ ...deps, groupsLicensed: true }) },
    logger: createLogger('info', logStream),
    metrics,
    backoff: { baseMs: 20, capMs: 200 },
  });
}

async function addUser(userName: string): Promise<string> {
  const doc: ScimDocument = { id: randomUUID(), userName, emails: [{ value: `${userName}@example.com`, primary: true }], active: true };
  return (await t.store.createUser(doc, { userName, emails: [`${userName}@example.com`] })).doc.id;
}

/** mulberry32: a seeded generator, so the failure pattern (and the test) is the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function settled(): Promise<boolean> {
  const counts = await inspector.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  return Object.values(counts).every((n) => n === 0) && (await t.store.pending()).length === 0;
}

test('with 20% of Coder writes failing, the worker still converges exactly', async () => {
  const userIds: string[] = [];
  for (let i = 0; i < 12; i++) userIds.push(await addUser(`worker-user-${i}`));
  const groupIds: string[] = [];
  for (let g = 0; g < 3; g++) {
    const members = userIds.filter((_, i) => i % 3 === g || i === 0);
    groupIds.push((await t.store.createGroup({ id: randomUUID(), displayName: `Worker Group ${g}` }, { displayName: `Worker Group ${g}` }, members)).doc.id);
  }
  sim.setOptions({ writeFailureRate: 0.2, random: seeded(42) });
  start();
  // Groups first: their members are not in Coder yet, and must join when their users land.
  await producer.enqueueMany([...groupIds.map((id) => ({ kind: 'group' as const, id })), ...userIds.map((id) => ({ kind: 'user' as const, id }))]);
  await waitFor(settled, 25_000);
  sim.setOptions({ writeFailureRate: 0 });

  expect(await inspector.getFailedCount()).toBe(0);
  const live = sim.users().filter((u) => !u.deleted && u.username.startsWith('worker-user-'));
  expect(live.map((u) => u.username).sort()).toEqual(userIds.map((_, i) => `worker-user-${i}`).sort());

  const coderIdOf = new Map<string, string>();
  for (const id of userIds) {
    const sync = await t.store.getSync<AppliedUserState>('user', id);
    expect(sync?.lastError).toBeUndefined();
    coderIdOf.set(id, sync!.applied!.coderId);
    expect(sim.orgMembers()).toContain(sync!.applied!.coderId);
  }
  for (const id of groupIds) {
    const sync = await t.store.getSync<AppliedGroupState>('group', id);
    expect(sync?.lastError).toBeUndefined();
    const expected = (await t.store.memberIds(id)).map((userId) => coderIdOf.get(userId)).sort();
    const group = sim.groups().find((g) => g.id === sync!.applied!.coderId);
    expect([...(group?.members ?? [])].sort()).toEqual(expected);
  }
  expect(sim.groups().filter((g) => g.name.startsWith('Worker-Group'))).toHaveLength(3);

  const reconciles = lines.filter((line) => line.event === 'reconcile');
  expect(reconciles.filter((line) => line.outcome === 'retry').length).toBeGreaterThan(0);
  expect(reconciles.length).toBeGreaterThanOrEqual(userIds.length + groupIds.length);
  for (const line of reconciles) {
    expect(line).toEqual(expect.objectContaining({ jobId: expect.any(String), kind: expect.any(String), id: expect.any(String), outcome: expect.any(String), durationMs: expect.any(Number) }));
  }
}, 30_000);

test('a Coder 429 pauses the queue without spending an attempt', async () => {
  sim.setOptions({ rateLimitPerMinute: 1 });
  const first = await addUser('limited-a');
  const second = await addUser('limited-b');
  start();
  await producer.enqueue('user', first);
  await waitFor(async () => lines.some((l) => l.id === first && l.outcome === 'applied'), 10_000);
  await producer.enqueue('user', second);
  await waitFor(async () => lines.some((l) => l.id === second && l.outcome === 'rate_limited'), 10_000);

  expect(await inspector.getRateLimitTtl(Number.MAX_SAFE_INTEGER)).toBeGreaterThan(30_000);
  const jobs = await inspector.getJobs(['waiting', 'failed', 'delayed']);
  const job = jobs.find((j) => j.data.id === second);
  expect(job && (await job.getState())).toBe('waiting');
  expect(job?.attemptsMade).toBe(0);
  expect(await inspector.getFailedCount()).toBe(0);
  // The outcome the metrics document is counted: one applied, one rate_limited.
  const counted = (await metrics.reconciles.get()).values.map((v) => [v.labels.outcome, v.value]);
  expect(counted).toEqual(expect.arrayContaining([['applied', 1], ['rate_limited', 1]]));
}, 20_000);

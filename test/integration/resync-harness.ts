import { randomUUID } from 'node:crypto';
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { CoderClient } from '../../src/coder/client';
import { createLogger } from '../../src/log';
import { createMetrics, type Metrics } from '../../src/metrics';
import { RECONCILE_QUEUE, type ReconcileJobData } from '../../src/queue/jobs';
import { ReconcileProducer } from '../../src/queue/producer';
import { LastResyncRecord } from '../../src/queue/resync-record';
import { ResyncQueue, type ResyncJobView } from '../../src/queue/resync-queue';
import { startResyncWorker } from '../../src/queue/resync-worker';
import { startReconcileWorker } from '../../src/queue/worker';
import { tokenUserIdOf } from '../../src/reconcile/adoption';
import { parseAdoptGroups } from '../../src/model/adopt-groups';
import { GroupReconciler } from '../../src/reconcile/group-reconciler';
import type { AppliedGroupState, AppliedUserState, PlanContext } from '../../src/reconcile/plan';
import type { ResyncReport } from '../../src/reconcile/resync';
import { UserReconciler } from '../../src/reconcile/user-reconciler';
import { ClaimIndex } from '../../src/store/claims';
import type { SyncStatus } from '../../src/model/sync';
import type { ScimDocument } from '../../src/model/resource';
import { startCoderSim, type CoderSim } from '../coder-sim';
import { deleteTestKeys, testRedis } from '../redis';
import { waitFor } from '../wait-for';
import { openTestStore, type TestStore } from './store-fixtures';

/**
 * Real Redis (a prefix of its own), the Coder simulator, the real reconcile worker and the resync worker:
 * everything a resync touches in production, wired as main wires it.
 */
export interface ResyncHarness extends TestStore {
  sim: CoderSim;
  coder: CoderClient;
  bullmq: Redis;
  producer: ReconcileProducer;
  reconcileQueue: Queue<ReconcileJobData>;
  resyncQueue: ResyncQueue;
  lastResync: LastResyncRecord;
  metrics: Metrics;
  ctx: PlanContext;
  startReconcileWorker(): void;
  startResyncWorker(options?: { pageSize?: number }): Promise<void>;
  addUser(userName: string): Promise<string>;
  addGroup(displayName: string, memberIds: string[]): Promise<string>;
  /** Waits until no reconcile job waits or runs and nothing is pending in the store. */
  settle(timeoutMs?: number): Promise<void>;
  /** Queues a resync and waits for its job to finish. */
  resync(request: { dryRun: boolean; resource?: string }): Promise<ResyncJobView & { result: ResyncReport | null }>;
  waitForJob(id: string, timeoutMs?: number): Promise<ResyncJobView>;
  userSync(id: string): Promise<SyncStatus<AppliedUserState> | null>;
  groupSync(id: string): Promise<SyncStatus<AppliedGroupState> | null>;
  close(): Promise<void>;
}

export async function openResyncHarness(): Promise<ResyncHarness> {
  const testStore = openTestStore();
  const { store, redis, prefix } = testStore;
  const sim = await startCoderSim();
  const coder = new CoderClient({ url: sim.url, token: sim.token, timeoutMs: 5_000, retries: 0 });
  const bullmq = testRedis({ maxRetriesPerRequest: null });
  const producer = new ReconcileProducer(bullmq, prefix);
  const reconcileQueue = new Queue<ReconcileJobData>(RECONCILE_QUEUE, { connection: bullmq, prefix });
  const resyncQueue = new ResyncQueue(bullmq, prefix);
  const lastResync = new LastResyncRecord(redis, prefix);
  const metrics = createMetrics({ defaultMetrics: false });
  const ctx: PlanContext = { deletePolicy: 'suspend', loginType: 'oidc', orgId: sim.defaultOrgId };
  const logger = createLogger('silent');
  const workers: Worker[] = [];

  const settle = async (timeoutMs = 20_000) =>
    waitFor(
      async () => {
        const counts = await reconcileQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0) && (await store.pending()).length === 0;
      },
      timeoutMs,
      'the reconcile queue to settle',
    );

  const waitForJob = async (id: string, timeoutMs = 20_000): Promise<ResyncJobView> => {
    let view: ResyncJobView | null = null;
    await waitFor(
      async () => {
        view = await resyncQueue.view(id);
        return view !== null && (view.state === 'completed' || view.state === 'failed');
      },
      timeoutMs,
      `resync job ${id}`,
    );
    return view!;
  };

  return {
    ...testStore,
    sim,
    coder,
    bullmq,
    producer,
    reconcileQueue,
    resyncQueue,
    lastResync,
    metrics,
    ctx,
    startReconcileWorker() {
      const claims = new ClaimIndex(redis, prefix);
      const deps = { store, claims, queue: producer, coder, ctx, adoption: { tokenUserId: tokenUserIdOf(coder), groups: parseAdoptGroups(undefined) } };
      workers.push(
        startReconcileWorker({
          connection: bullmq,
          prefix,
          concurrency: 4,
          reconcilers: { user: new UserReconciler(deps), group: new GroupReconciler({ ...deps, groupsLicensed: true }) },
          logger,
          backoff: { baseMs: 20, capMs: 200 },
        }),
      );
    },
    async startResyncWorker(options = {}) {
      workers.push(
        await startResyncWorker({ connection: bullmq, prefix, resync: { store, coder, producer, plan: ctx, ...options }, metrics, logger }),
      );
    },
    async addUser(userName) {
      const email = `${userName}@example.com`;
      const doc: ScimDocument = { id: randomUUID(), userName, name: { formatted: `${userName} name` }, emails: [{ value: email, primary: true }], active: true };
      const stored = await store.createUser(doc, { userName, emails: [email] });
      await producer.enqueue('user', stored.id);
      return stored.id;
    },
    async addGroup(displayName, memberIds) {
      const stored = await store.createGroup({ id: randomUUID(), displayName }, { displayName }, memberIds);
      await producer.enqueue('group', stored.id);
      return stored.id;
    },
    settle,
    async resync(request) {
      const { id } = await resyncQueue.request(request);
      return (await waitForJob(id)) as ResyncJobView & { result: ResyncReport | null };
    },
    waitForJob,
    userSync: (id) => store.getSync<AppliedUserState>('user', id),
    groupSync: (id) => store.getSync<AppliedGroupState>('group', id),
    async close() {
      for (const worker of workers) await worker.close();
      await resyncQueue.close();
      await reconcileQueue.close();
      await producer.close();
      await coder.close();
      await sim.close();
      await deleteTestKeys(redis, prefix);
      redis.disconnect();
      bullmq.disconnect();
    },
  };
}

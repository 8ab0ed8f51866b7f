import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { RECONCILE_QUEUE, reconcileJobId, type ReconcileJobData } from '../../src/queue/jobs';
import { RECONCILE_JOB_OPTIONS, ReconcileProducer } from '../../src/queue/producer';
import { deleteTestKeys, testRedis } from '../redis';

const prefix = `test-${randomUUID()}`;
const connection = testRedis({ maxRetriesPerRequest: null });
const producer = new ReconcileProducer(connection, prefix);
const inspector = new Queue<ReconcileJobData>(RECONCILE_QUEUE, { connection, prefix });

afterAll(async () => {
  await inspector.obliterate({ force: true });
  await producer.close();
  await inspector.close();
  await deleteTestKeys(connection, prefix);
  connection.disconnect();
});

afterEach(() => inspector.obliterate({ force: true }));

test('a burst of enqueues for one resource leaves one waiting job, with the reconcile options', async () => {
  for (let i = 0; i < 10; i++) await producer.enqueue('user', 'burst');
  await producer.enqueueMany([{ kind: 'user', id: 'burst' }, { kind: 'group', id: 'burst' }, { kind: 'group', id: 'burst' }]);
  const waiting = await inspector.getWaiting();
  expect(waiting.map((job) => ({ name: job.name, data: job.data })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
    { name: 'group', data: { kind: 'group', id: 'burst' } },
    { name: 'user', data: { kind: 'user', id: 'burst' } },
  ]);
  const userJob = waiting.find((job) => job.name === 'user') as Job<ReconcileJobData>;
  expect(userJob.opts).toMatchObject({ attempts: RECONCILE_JOB_OPTIONS.attempts, backoff: { type: 'reconcile' } });
  expect(userJob.deduplicationId).toBe(reconcileJobId('user', 'burst'));
});

test('enqueues while the job is active leave exactly one waiting job after it, carrying the latest data', async () => {
  await producer.enqueue('group', 'busy');
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const active = new Promise<void>((resolve) => (started = resolve));
  const workerConnection = connection.duplicate();
  const worker = new Worker<ReconcileJobData>(
    RECONCILE_QUEUE,
    async () => {
      started();
      await gate;
    },
    { connection: workerConnection, prefix },
  );
  await active;
  expect(await inspector.getJobCounts('active', 'waiting')).toEqual({ active: 1, waiting: 0 });

  for (let i = 0; i < 5; i++) await producer.enqueue('group', 'busy');
  await producer.enqueue('group', 'busy', { force: true });

  const closing = worker.close(); // stop fetching, so the follow-up job stays waiting where we can see it
  release();
  await closing;
  workerConnection.disconnect();
  const waiting = await inspector.getWaiting();
  expect(waiting.map((job) => job.data)).toEqual([{ kind: 'group', id: 'busy', force: true }]);
  expect(await inspector.getJobCounts('active', 'completed')).toEqual({ active: 0, completed: 0 });
});

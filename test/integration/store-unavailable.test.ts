import { createServer } from 'node:net';
import { ReconcileProducer } from '../../src/queue/producer';
import { RedisStore } from '../../src/store/redis-store';
import { createRedis } from '../../src/store/redis';
import { StoreError } from '../../src/store/types';
import { userDoc } from './store-fixtures';

/** A loopback port that nothing listens on: bind an ephemeral port, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const redisConfig = (port: number) => ({ url: `redis://127.0.0.1:${port}`, prefix: 'unreachable', sentinelName: 'mymaster' });

async function expectUnavailableWithin(ms: number, operation: () => Promise<unknown>): Promise<void> {
  const started = Date.now();
  const outcome = await operation().then(
    () => new Error('operation succeeded against an unreachable Redis'),
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(StoreError);
  expect(outcome).toMatchObject({ code: 'unavailable' });
  expect(Date.now() - started).toBeLessThan(ms);
}

test('store reads and writes fail fast with StoreError(unavailable) when Redis is unreachable', async () => {
  const redis = createRedis(redisConfig(await closedPort()), 'store');
  const store = new RedisStore(redis, 'unreachable');
  try {
    await expectUnavailableWithin(1_000, () => store.getUser('u1'));
    await expectUnavailableWithin(1_000, () => store.createUser(userDoc('x'), { userName: 'x', emails: [] }));
    await expectUnavailableWithin(1_000, () => store.changeMembers('g1', { add: ['u1'] }));
    await expectUnavailableWithin(1_000, () => store.listUsers(0, 10));
  } finally {
    redis.disconnect();
  }
});

test('enqueue gives up with StoreError(unavailable) instead of waiting for Redis forever', async () => {
  const redis = createRedis(redisConfig(await closedPort()), 'bullmq');
  const producer = new ReconcileProducer(redis, 'unreachable', { timeoutMs: 300 });
  try {
    await expectUnavailableWithin(2_000, () => producer.enqueue('user', 'u1'));
  } finally {
    await producer.close();
    redis.disconnect();
  }
});

import { startE2E, type E2E } from '../e2e/harness';
import { startOwnRedis, type OwnRedis } from '../e2e/redis-server';
import { expectConverged } from './verify';
import { provisioningRun } from './workload';

/** The bridge's Redis (its own redis-server, AOF on) is shut down mid-run and started again on the same port and data. */

const DOWN_MS = 3_000;

let redis: OwnRedis;
let e2e: E2E;
beforeAll(async () => {
  redis = await startOwnRedis();
  e2e = await startE2E({ sim: { latencyMs: 5 }, env: { REDIS_URL: redis.url } });
});
afterAll(async () => {
  await e2e?.close();
  await redis?.destroy();
});

test('200 users and 3 groups reach Coder exactly after Redis restarts mid-run', async () => {
  const started = Date.now();
  const expected = await provisioningRun(e2e, {
    midRun: async () => {
      await redis.shutdown();
      await new Promise((done) => setTimeout(done, DOWN_MS));
      await redis.start();
    },
  });
  await expectConverged(e2e, 'Redis restarted', expected, started, 75_000);
}, 150_000);

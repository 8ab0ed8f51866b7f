import { startE2E, type E2E } from '../e2e/harness';
import { expectConverged } from './verify';
import { provisioningRun } from './workload';

/** Coder fails 20% of writes throughout: half answer 500, half drop the connection (before or after applying). */

let e2e: E2E;
beforeAll(async () => {
  e2e = await startE2E({ sim: { writeFailureRate: 0.2 } });
});
afterAll(() => e2e?.close());

test('200 users and 3 groups reach Coder exactly, with no duplicates, while 20% of Coder writes fail', async () => {
  const started = Date.now();
  const expected = await provisioningRun(e2e);
  await expectConverged(e2e, 'Coder fails 20% of writes', expected, started);
}, 90_000);

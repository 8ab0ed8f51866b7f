import { startE2E, type E2E } from '../e2e/harness';
import { expectConverged } from './verify';
import { provisioningRun } from './workload';

/**
 * Coder is fully down (503s and dropped connections) for 10 s in the middle of the run, then returns. Long enough
 * for the queue to pause several times over (see OUTAGE_PAUSE_BACKOFF); a longer outage only adds pauses of 5 s.
 */

const OUTAGE_MS = 10_000;
let callsDuringOutage = 0;
const totalCalls = () => Object.values(e2e.sim.calls()).reduce((sum, n) => sum + n, 0);

let e2e: E2E;
beforeAll(async () => {
  // Some latency, so the run is still going when the outage starts.
  e2e = await startE2E({ sim: { latencyMs: 5 } });
});
afterAll(() => e2e?.close());

test('200 users and 3 groups reach Coder exactly after a 10 s Coder outage in the middle of the run', async () => {
  const started = Date.now();
  const expected = await provisioningRun(e2e, {
    midRun: async () => {
      e2e.sim.setOptions({ outage: true });
      const before = totalCalls();
      await new Promise((done) => setTimeout(done, OUTAGE_MS));
      callsDuringOutage = totalCalls() - before;
      e2e.sim.setOptions({ outage: false });
    },
  });
  // Once Coder answers nothing, the queue pauses (1 s, 2 s, 4 s, then 5 s at a time) and jobs wait: a few calls
  // per pause, not every job's own retries (about 1,000 calls in 10 s before the pause existed).
  console.log(`[faults] calls to Coder while it was down: ${callsDuringOutage}`);
  expect(callsDuringOutage).toBeLessThan(200);
  // The run ends when the outage does (it awaits midRun), so the convergence time counts from Coder's return.
  await expectConverged(e2e, 'Coder down for 10 s', expected, started, 75_000);
}, 120_000);

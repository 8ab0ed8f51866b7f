import { startE2E, type E2E } from '../e2e/harness';
import { spawnBridge, type BridgeProcess } from '../e2e/bridge-process';
import { expectConverged } from './verify';
import { provisioningRun } from './workload';

/**
 * Coder goes down mid-run, the bridge process is SIGKILLed and started again while Coder is still down (the
 * first build exited with `GET GET /api/v2/organizations: UND_ERR_SOCKET` and never came back), then Coder returns.
 */

const DOWN_AFTER_RESTART_MS = 8_000;

let e2e: E2E;
let bridge: BridgeProcess;
beforeAll(async () => {
  e2e = await startE2E({
    sim: { latencyMs: 10 },
    launch: async (env) => {
      bridge = await spawnBridge(env);
      return bridge;
    },
  });
}, 60_000);
afterAll(() => e2e?.close());

test('200 users and 3 groups reach Coder exactly after the bridge is restarted during a Coder outage', async () => {
  const started = Date.now();
  const expected = await provisioningRun(e2e, {
    midRun: async () => {
      e2e.sim.setOptions({ outage: true });
      const pid = bridge.pid();
      await bridge.kill();
      // restart() returns once /healthz answers: the bridge listens with Coder down, and takes the rest of the run.
      await bridge.restart();
      expect(bridge.pid()).not.toBe(pid);
      await new Promise((done) => setTimeout(done, DOWN_AFTER_RESTART_MS));
      e2e.sim.setOptions({ outage: false });
    },
  });
  await expectConverged(e2e, 'bridge restarted while Coder is down', expected, started, 90_000);
}, 180_000);

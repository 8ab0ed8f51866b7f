import { startE2E, type E2E } from '../e2e/harness';
import { spawnBridge, type BridgeProcess } from '../e2e/bridge-process';
import { expectConverged } from './verify';
import { provisioningRun } from './workload';

/** The bridge process (HTTP and workers) is SIGKILLed mid-run and started again on the same port. */

let e2e: E2E;
let bridge: BridgeProcess;
beforeAll(async () => {
  e2e = await startE2E({
    // Latency keeps reconciles in flight when the process dies.
    sim: { latencyMs: 10 },
    // The killed process's reconciles are retried once their lock expires: 2 s instead of the default 10 s.
    env: { WORKER_LOCK_DURATION: '2s' },
    launch: async (env) => {
      bridge = await spawnBridge(env);
      return bridge;
    },
  });
}, 60_000);
afterAll(() => e2e?.close());

test('200 users and 3 groups reach Coder exactly after the bridge is SIGKILLed mid-run and restarted', async () => {
  const started = Date.now();
  const expected = await provisioningRun(e2e, {
    midRun: async () => {
      const pid = bridge.pid();
      await bridge.kill();
      await bridge.restart();
      expect(bridge.pid()).not.toBe(pid);
    },
  });
  await expectConverged(e2e, 'bridge SIGKILLed and restarted', expected, started, 75_000);
}, 150_000);

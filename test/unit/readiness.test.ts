import { createReadiness, sharedCheck } from '../../src/runtime/readiness';

/** Readiness per mode, and what one probe costs: concurrent probes share one check. */

function worker(state: { preflightDone: boolean; authFailing: boolean }) {
  return { preflightDone: () => state.preflightDone, coderAuthFailing: () => state.authFailing };
}

test('1,500 concurrent probes share one Redis ping', async () => {
  let pings = 0;
  let answer!: () => void;
  const readiness = createReadiness({
    mode: 'serve',
    pingRedis: () => {
      pings++;
      return new Promise<void>((resolve) => (answer = resolve));
    },
    cacheMs: 0,
  });
  const probes = Array.from({ length: 1_500 }, () => readiness());
  answer();
  const results = await Promise.all(probes);
  expect(pings).toBe(1);
  expect(results.every((r) => r.ok)).toBe(true);
});

test('an answer is reused for cacheMs, then asked again', async () => {
  let now = 0;
  let calls = 0;
  const check = sharedCheck(async () => ++calls, 1_000, () => now);
  expect(await check()).toBe(1);
  now = 999;
  expect(await check()).toBe(1);
  now = 1_000;
  expect(await check()).toBe(2);
});

test.each(['serve', 'all'] as const)('%s is ready whenever Redis answers, whatever the worker and Coder do', async (mode) => {
  const state = { preflightDone: false, authFailing: true };
  let redisUp = true;
  const readiness = createReadiness({ mode, pingRedis: () => (redisUp ? Promise.resolve() : Promise.reject(new Error('down'))), worker: worker(state), cacheMs: 0 });
  expect(await readiness()).toEqual({ ok: true });
  redisUp = false;
  expect(await readiness()).toEqual({ ok: false, failing: 'redis' });
});

test('a worker is ready once Redis answers, the Coder preflight is done and Coder accepts its token', async () => {
  const state = { preflightDone: false, authFailing: false };
  let redisUp = false;
  const readiness = createReadiness({ mode: 'worker', pingRedis: () => (redisUp ? Promise.resolve() : Promise.reject(new Error('down'))), worker: worker(state), cacheMs: 0 });
  expect(await readiness()).toEqual({ ok: false, failing: 'redis' });
  redisUp = true;
  expect(await readiness()).toEqual({ ok: false, failing: 'coder_preflight' });
  state.preflightDone = true;
  expect(await readiness()).toEqual({ ok: true });
  state.authFailing = true;
  expect(await readiness()).toEqual({ ok: false, failing: 'coder_auth' });
});

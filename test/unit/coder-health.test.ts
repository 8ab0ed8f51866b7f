import { CoderApiError } from '../../src/coder/errors';
import { CoderHealth } from '../../src/coder/health';
import { type CoderHealthSnapshot } from '../../src/model/sync';

/** coder_up and coder_auth_failing, learnt from the calls the process makes. */

function health(probe: () => Promise<unknown> = () => Promise.resolve()) {
  const changes: CoderHealthSnapshot[] = [];
  return { health: new CoderHealth({ probe, idleProbeMs: 60_000, onChange: (s) => changes.push(s), now: () => 1_000 }), changes };
}

test('up on any HTTP answer, down on no answer or a 5xx', () => {
  const { health: h, changes } = health();
  expect(h.snapshot().up).toBeUndefined();
  h.observe({ method: 'GET', status: 404 });
  expect(h.snapshot()).toMatchObject({ up: true, lastAnswerAt: 1_000 });
  h.observe({ method: 'GET', status: 0 });
  expect(h.snapshot().up).toBe(false);
  h.observe({ method: 'POST', status: 503 });
  h.observe({ method: 'GET', status: 200 });
  expect(changes.map((c) => c.up)).toEqual([true, false, true]);
});

test('a 401 marks the token failing until a call succeeds', () => {
  const { health: h } = health();
  h.observe({ method: 'GET', status: 401 });
  expect(h.snapshot()).toMatchObject({ up: true, authFailing: true });
  h.observe({ method: 'GET', status: 200 });
  expect(h.snapshot().authFailing).toBe(false);
});

test('a refused privilege (403 Forbidden.) is cleared by a successful write, not by a read', () => {
  const { health: h } = health();
  const forbidden = new CoderApiError({ method: 'POST', route: 'POST /api/v2/users', status: 403, message: 'Forbidden.' });
  h.observe({ method: 'POST', status: 403 });
  h.failed(forbidden);
  expect(h.snapshot()).toMatchObject({ authFailing: true, lastError: 'POST /api/v2/users: 403 Forbidden.' });
  h.observe({ method: 'GET', status: 200 });
  expect(h.snapshot().authFailing).toBe(true);
  h.observe({ method: 'POST', status: 201 });
  expect(h.snapshot().authFailing).toBe(false);
});

test('concurrent probes share one call', async () => {
  let calls = 0;
  const { health: h } = health(() => {
    calls++;
    return new Promise((resolve) => setTimeout(resolve, 10));
  });
  await Promise.all(Array.from({ length: 100 }, () => h.probe()));
  expect(calls).toBe(1);
  await h.probe();
  expect(calls).toBe(2);
});

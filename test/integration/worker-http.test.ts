import { request } from 'undici';
import { startE2E, type E2E } from '../e2e/harness';

/** A `worker` process serves /healthz, /readyz and /metrics (Kubernetes probes and scrapes) and nothing else. */

let worker: E2E;
beforeAll(async () => {
  worker = await startE2E({ mode: 'worker' });
});
afterAll(() => worker.close());

async function get(path: string, token?: string): Promise<{ status: number; text: string }> {
  const reply = await request(`${worker.bridge.origin}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: reply.statusCode, text: await reply.body.text() };
}

test('answers the liveness and readiness probes without a token', async () => {
  expect(await get('/healthz')).toEqual({ status: 200, text: JSON.stringify({ status: 'ok' }) });
  // A worker is ready once its Coder preflight, which runs after it started listening, is done.
  const deadline = Date.now() + 10_000;
  let ready = await get('/readyz');
  while (ready.status !== 200 && Date.now() < deadline) {
    expect(ready).toEqual({ status: 503, text: JSON.stringify({ status: 'unavailable', failing: 'coder_preflight' }) });
    await new Promise((done) => setTimeout(done, 50));
    ready = await get('/readyz');
  }
  expect(ready.status).toBe(200);
});

test('serves its own reconcile metrics behind the admin token', async () => {
  expect((await get('/metrics')).status).toBe(401);
  const metrics = await get('/metrics', worker.adminToken);
  expect(metrics.status).toBe(200);
  expect(metrics.text).toContain('# TYPE coder_scim_bridge_reconciles_total counter');
  expect(metrics.text).toMatch(/coder_scim_bridge_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1/);
});

test('does not serve SCIM or the admin API', async () => {
  expect((await get('/scim/v2/Users', worker.scimToken)).status).toBe(404);
  expect((await get('/admin/status', worker.adminToken)).status).toBe(404);
});

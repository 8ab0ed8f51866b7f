import { request } from 'undici';
import { startE2E, type E2E } from '../e2e/harness';

/** /readyz: 200 while Redis and Coder answer; otherwise 503 naming the failing dependency and nothing more. */

/** The bridge reuses a readiness answer for a few seconds, so a change shows within this. */
const PROBE_SETTLE_MS = 15_000;

async function readyz(e2e: E2E): Promise<{ status: number; body: unknown }> {
  const reply = await request(`${e2e.bridge.origin}/readyz`);
  return { status: reply.statusCode, body: await reply.body.json() };
}

async function readyzOnceItIs(e2e: E2E, status: number): Promise<{ status: number; body: unknown }> {
  const started = Date.now();
  let last = await readyz(e2e);
  while (last.status !== status && Date.now() - started < PROBE_SETTLE_MS) {
    await new Promise((done) => setTimeout(done, 250));
    last = await readyz(e2e);
  }
  return last;
}

describe('with a working Coder', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(() => e2e.close());

  test('is ready, then names only "coder" while Coder is out, and recovers', async () => {
    expect(await readyz(e2e)).toEqual({ status: 200, body: { status: 'ok' } });

    e2e.sim.setOptions({ outage: true });
    expect(await readyzOnceItIs(e2e, 503)).toEqual({ status: 503, body: { status: 'unavailable', failing: 'coder' } });

    e2e.sim.setOptions({ outage: false });
    expect(await readyzOnceItIs(e2e, 200)).toEqual({ status: 200, body: { status: 'ok' } });
  }, 40_000);
});

describe('with a session token Coder rejects', () => {
  let e2e: E2E;
  beforeAll(async () => {
    // `serve` does not call Coder at start, so it comes up with a bad token and must report it.
    e2e = await startE2E({ mode: 'serve', env: { CODER_SESSION_TOKEN: 'not-a-coder-token' } });
  });
  afterAll(() => e2e.close());

  test('is not ready and names only "coder"', async () => {
    expect(await readyz(e2e)).toEqual({ status: 503, body: { status: 'unavailable', failing: 'coder' } });
  });
});

import { Pool, request, type Dispatcher } from 'undici';
import { startBridge, type Bridge } from '../../src/bridge';
import { createLogger } from '../../src/log';
import { coderCallCount } from '../faults/verify';
import { startE2E, type E2E } from '../e2e/harness';

/**
 * /readyz means "can do its job": `serve` and `all` need Redis only, so a Coder outage never takes the SCIM
 * endpoint out of its Service; a worker also needs its Coder preflight done and Coder accepting its token.
 * Coder's state shows in /admin/status and the coder_up gauge. A 503 names the failing dependency and nothing more.
 */

const SETTLE_MS = 15_000;

async function readyz(origin: string, dispatcher?: Dispatcher): Promise<{ status: number; body: unknown }> {
  const reply = await request(`${origin}/readyz`, { dispatcher });
  return { status: reply.statusCode, body: await reply.body.json() };
}

async function readyzOnceItIs(origin: string, status: number): Promise<{ status: number; body: unknown }> {
  const started = Date.now();
  let last = await readyz(origin);
  while (last.status !== status && Date.now() - started < SETTLE_MS) {
    await new Promise((done) => setTimeout(done, 250));
    last = await readyz(origin);
  }
  return last;
}

async function adminStatusOnce(e2e: E2E, condition: (body: any) => boolean): Promise<any> {
  const started = Date.now();
  let body = (await e2e.admin('GET', '/status')).body;
  while (!condition(body) && Date.now() - started < SETTLE_MS) {
    await new Promise((done) => setTimeout(done, 250));
    body = (await e2e.admin('GET', '/status')).body;
  }
  return body;
}

describe('with a working Coder', () => {
  let e2e: E2E;
  let worker: Bridge;
  beforeAll(async () => {
    e2e = await startE2E();
    worker = await startBridge(e2e.config, 'worker', createLogger('silent'));
  });
  afterAll(async () => {
    await worker.close();
    await e2e.close();
  });

  test('all stays ready through a Coder outage, which /admin/status and coder_up report', async () => {
    const origin = e2e.bridge.origin!;
    expect(await readyz(origin)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await readyzOnceItIs(worker.origin, 200)).toEqual({ status: 200, body: { status: 'ok' } });

    e2e.sim.setOptions({ outage: true });
    // /admin/status asks Coder when it heard nothing from it for a few seconds.
    const status = await adminStatusOnce(e2e, (body) => body.coder.up === false);
    expect(status.coder).toMatchObject({ up: false, coder_auth_failing: false, lastError: expect.stringMatching(/^GET \/api\/v2\/users\/me: /) });
    expect((await e2e.bridge.metrics!.coderUp.get()).values[0]?.value).toBe(0);
    expect(await readyz(origin)).toEqual({ status: 200, body: { status: 'ok' } });
    // A worker whose preflight is done stays ready too: its jobs wait and retry, nothing fails.
    expect(await readyz(worker.origin)).toEqual({ status: 200, body: { status: 'ok' } });

    e2e.sim.setOptions({ outage: false });
    expect((await adminStatusOnce(e2e, (body) => body.coder.up === true)).coder).toMatchObject({ up: true, lastAnswerAt: expect.any(Number) });
  }, 40_000);

  test('1,500 concurrent /readyz all answer, and cost Coder no call', async () => {
    const before = coderCallCount(e2e);
    // Through 100 connections: the server caps how many it holds open at once (MAX_CONNECTIONS).
    const pool = new Pool(e2e.bridge.origin!, { connections: 100, pipelining: 1 });
    try {
      const replies = await Promise.all(Array.from({ length: 1_500 }, () => readyz(e2e.bridge.origin!, pool)));
      expect(replies.every((reply) => reply.status === 200)).toBe(true);
    } finally {
      await pool.close();
    }
    expect(coderCallCount(e2e) - before).toBe(0);
  }, 40_000);
});

describe('with a session token Coder rejects', () => {
  let e2e: E2E;
  let worker: Bridge;
  beforeAll(async () => {
    e2e = await startE2E({ mode: 'serve', env: { CODER_SESSION_TOKEN: 'not-a-coder-token' } });
    worker = await startBridge(e2e.config, 'worker', createLogger('silent'));
  });
  afterAll(async () => {
    await worker.close();
    await e2e.close();
  });

  test('serve stays ready and reports coder_auth_failing; the worker is not ready', async () => {
    expect(await readyz(e2e.bridge.origin!)).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await e2e.admin('GET', '/status')).body.coder).toMatchObject({ up: true, coder_auth_failing: true });
    expect(await readyz(worker.origin)).toEqual({ status: 503, body: { status: 'unavailable', failing: 'coder_preflight' } });
  });
});

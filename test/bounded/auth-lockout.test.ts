import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Router } from 'express';
import { Agent, request } from 'undici';
import { strongToken } from '../fixtures/tokens';
import { startScimServer, type ScimServer } from '../integration/scim-harness';

/**
 * "A valid token always gets in": a flood of wrong tokens and of requests without a token, from the IdP's own
 * address (behind an ingress without TRUST_PROXY every client shares it) or with a forged X-Forwarded-For naming
 * the IdP, never keeps the SCIM or admin token out. Every answer arrives, with its status, and the event loop
 * stays responsive meanwhile.
 */

const FLOOD = 300;
const FLOOD_CONCURRENCY = 24;
/** Every answer within this, or the test fails: a locked or stalled server shows as a timeout, not a hang. */
const ANSWER_WITHIN_MS = 10_000;
/** Generous for a loaded 2-core machine; a regression to seconds of blocking fails. */
const MAX_EVENT_LOOP_BLOCK_MS = 1_000;

const ADMIN_TOKEN = strongToken('admin');

interface Answer {
  status: number;
  connection: string | undefined;
}

/** Separate connection pools, as the IdP and an attacker would have. */
const attackerAgent = new Agent({ connections: FLOOD_CONCURRENCY, headersTimeout: ANSWER_WITHIN_MS, bodyTimeout: ANSWER_WITHIN_MS });
const idpAgent = new Agent({ connections: 2, headersTimeout: ANSWER_WITHIN_MS, bodyTimeout: ANSWER_WITHIN_MS });
afterAll(async () => {
  await Promise.all([attackerAgent.close(), idpAgent.close()]);
});

async function send(agent: Agent, url: string, headers: Record<string, string>): Promise<Answer> {
  const reply = await request(url, { headers, dispatcher: agent });
  await reply.body.dump();
  const connection = reply.headers.connection;
  return { status: reply.statusCode, connection: typeof connection === 'string' ? connection : undefined };
}

/** Runs `attack(i)` FLOOD times, FLOOD_CONCURRENCY at once. */
async function flood(attack: (i: number) => Promise<Answer>): Promise<Answer[]> {
  const answers: Answer[] = new Array(FLOOD);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < FLOOD; i = next++) answers[i] = await attack(i);
  };
  await Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, lane));
  return answers;
}

/** While `during` runs, the valid clients keep calling; every one of their answers is collected. */
async function keepCalling(calls: (() => Promise<Answer>)[], during: Promise<unknown>): Promise<Answer[]> {
  let done = false;
  void during.finally(() => {
    done = true;
  });
  const answers: Answer[] = [];
  while (!done) for (const call of calls) answers.push(await call());
  return answers;
}

function adminRouter(): Router {
  const router = Router();
  router.get('/status', (_req, res) => {
    res.json({ ok: true });
  });
  return router;
}

describe.each([
  { label: 'without TRUST_PROXY (every client shares the ingress address)', env: {} as Record<string, string>, forged: {} as Record<string, string> },
  { label: 'behind a trusted proxy, with X-Forwarded-For forged to name the IdP', env: { TRUST_PROXY: 'loopback' }, forged: { 'x-forwarded-for': '198.51.100.20' } },
])('a flood of bad and missing tokens $label', ({ env, forged }) => {
  let server: ScimServer;
  const logLines: string[] = [];
  beforeAll(async () => {
    server = await startScimServer({ env, adminToken: ADMIN_TOKEN, admin: adminRouter(), metrics: true, logLines });
  });
  afterAll(() => server.close());

  test('the SCIM and admin tokens keep getting 2xx; failures get 401, then 429, each answer arriving', async () => {
    const url = (path: string) => `${server.origin}${path}`;
    const paths = ['/scim/v2/Users', '/metrics', '/admin/status'];
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const attack = flood((i) => {
      const path = paths[i % paths.length];
      // Half without a token, half with a wrong one, all from the IdP's (forged) address.
      const auth: Record<string, string> = i % 2 ? { authorization: `Bearer wrong-${i}` } : {};
      return send(attackerAgent, url(path), { ...forged, ...auth });
    });
    const idp = { ...forged, authorization: `Bearer ${server.token}` };
    const admin = { ...forged, authorization: `Bearer ${ADMIN_TOKEN}` };
    const valid = await keepCalling(
      [() => send(idpAgent, url('/scim/v2/Users'), idp), () => send(idpAgent, url('/admin/status'), admin), () => send(idpAgent, url('/metrics'), admin)],
      attack,
    );
    const attacked = await attack;
    loop.disable();

    expect(valid.length).toBeGreaterThanOrEqual(3);
    expect(valid.filter((a) => a.status !== 200)).toEqual([]);
    const withoutToken = attacked.filter((_a, i) => i % 2 === 0);
    const wrongToken = attacked.filter((_a, i) => i % 2 === 1);
    // Requests without a token lock no one out: each is a plain 401.
    expect(new Set(withoutToken.map((a) => a.status))).toEqual(new Set([401]));
    // Wrong tokens: the client is slowed (429) once past its 20 failures.
    expect(wrongToken.filter((a) => a.status === 401).length).toBe(20);
    expect(wrongToken.filter((a) => a.status === 429).length).toBe(wrongToken.length - 20);
    // A refused request's connection is closed, not kept to read what else the client sends.
    expect(attacked.filter((a) => a.connection !== 'close')).toEqual([]);
    expect(loop.max / 1e6).toBeLessThan(MAX_EVENT_LOOP_BLOCK_MS);
  });

  test('failures were logged once, not once per request (the rest goes into a periodic summary)', () => {
    const events = logLines.map((line) => JSON.parse(line) as { event?: string; level: number });
    expect(events.filter((e) => e.event === 'auth_failed')).toHaveLength(1);
    expect(events.filter((e) => e.level >= 50)).toEqual([]);
  });
});

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { seedUsers } from '../../bench/seed';
import { seededUserName } from '../../bench/workload';
import { SCAN_RETRY_AFTER_SECONDS } from '../../src/http/scan-gate';
import { MAX_SCANS_PER_TOKEN } from '../../src/scim/limits';
import { StoreKeys } from '../../src/store/keys';
import { startScimServer, type ScimServer } from '../integration/scim-harness';
import { send, type Reply } from './attacks';
import { EVENT_LOOP_BOUND_MS, measureEventLoop } from './event-loop';

// Its bounds are wall-clock: a run that loses the CPU to the other test files running beside it may miss one once.
// A real regression (seconds, every time) still fails all three tries.
jest.retryTimes(2, { logErrorsBeforeRetry: true });

/**
 * Filters no index answers read every user. At 10,000 users, ten of them at once neither starve /healthz nor
 * the indexed lookups an IdP makes meanwhile, and one token cannot run more than its share.
 */

const USERS = 10_000;
const SCANS = 10;
/** Latency (90th percentile) /healthz and an indexed lookup keep while scans run (the target is 50 ms on an idle machine). */
const LATENCY_BOUND_MS = 500;
const UNINDEXED = `/Users?filter=${encodeURIComponent('userName co "zzz"')}`;

const tokens = Array.from({ length: SCANS / MAX_SCANS_PER_TOKEN }, () => `scim-${randomUUID()}`);
let server: ScimServer;

beforeAll(async () => {
  server = await startScimServer({ tokens });
  await seedUsers(server.store, 0, USERS);
}, 120_000);
afterAll(async () => {
  await server?.close();
});

async function timed(run: () => Promise<number>): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const status = await run();
  return { status, ms: performance.now() - started };
}

/**
 * Polls `probe` until `until` settles; returns the 90th-percentile answer time and every status seen. A percentile,
 * not the slowest: one answer delayed by the OS scheduling other test files says nothing of the bridge, while a
 * scan that holds the event loop delays every answer behind it.
 */
async function pollDuring(until: Promise<unknown>, probe: () => Promise<number>): Promise<{ p90Ms: number; answers: number; statuses: Set<number> }> {
  let settled = false;
  void until.finally(() => (settled = true));
  const times: number[] = [];
  const statuses = new Set<number>();
  while (!settled) {
    const { status, ms } = await timed(probe);
    times.push(ms);
    statuses.add(status);
    await new Promise((resume) => setTimeout(resume, 20));
  }
  times.sort((x, y) => x - y);
  return { p90Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.9))] ?? 0, answers: times.length, statuses };
}

test(`one token runs ${MAX_SCANS_PER_TOKEN} scans at once; beyond that, a 429 with Retry-After`, async () => {
  const replies = await Promise.all(Array.from({ length: SCANS }, () => send(server.origin, tokens[0], 'GET', UNINDEXED)));
  const refused = replies.filter((reply) => reply.status === 429);
  expect(replies.filter((reply) => reply.status === 200)).toHaveLength(MAX_SCANS_PER_TOKEN);
  expect(refused).toHaveLength(SCANS - MAX_SCANS_PER_TOKEN);
  for (const reply of refused) {
    expect(reply.headers['retry-after']).toBe(String(SCAN_RETRY_AFTER_SECONDS));
    expect(JSON.parse(reply.text)).toMatchObject({ status: '429', detail: expect.stringMatching(/filters that no index answers; retry in/) });
  }
  // The slots are given back: the same token scans again.
  expect((await send(server.origin, tokens[0], 'GET', UNINDEXED)).status).toBe(200);
}, 60_000);

test(`${SCANS} scans at ${USERS} users leave /healthz and indexed lookups fast`, async () => {
  const lookup = `/Users?filter=${encodeURIComponent(`userName eq "${seededUserName(USERS - 1)}"`)}`;
  const { result, longestBlockMs } = await measureEventLoop(async () => {
    const scans = Promise.all(tokens.flatMap((token) => Array.from({ length: MAX_SCANS_PER_TOKEN }, () => send(server.origin, token, 'GET', UNINDEXED))));
    const [replies, health, indexed] = await Promise.all([
      scans,
      pollDuring(scans, async () => (await request(`${server.origin}/healthz`).then(async (r) => (await r.body.text(), r))).statusCode),
      pollDuring(scans, async () => (await send(server.origin, tokens[0], 'GET', lookup)).status),
    ]);
    return { replies: replies as Reply[], health, indexed };
  });
  expect(result.replies.map((reply) => reply.status)).toEqual(Array(SCANS).fill(200));
  expect(JSON.parse(result.replies[0].text).totalResults).toBe(0);
  expect([...result.health.statuses]).toEqual([200]);
  expect([...result.indexed.statuses]).toEqual([200]);
  expect(result.health.p90Ms).toBeLessThan(LATENCY_BOUND_MS);
  expect(result.indexed.p90Ms).toBeLessThan(LATENCY_BOUND_MS);
  // Answered all along, not only once the scans were done.
  expect(Math.min(result.health.answers, result.indexed.answers)).toBeGreaterThan(1);
  expect(longestBlockMs).toBeLessThan(EVENT_LOOP_BOUND_MS);
}, 120_000);

test('displayName eq and userName sw are answered by indexes, backfilled for users stored before them', async () => {
  const filtered = (filter: string) => send(server.origin, tokens[1], 'GET', `/Users?filter=${encodeURIComponent(filter)}&count=100`);
  // The first lookup starts the backfill of the 10,000 users seeded above (answered meanwhile by a scan).
  expect((await filtered('displayName eq "Bench bench.user1"')).status).toBe(200);
  const redis = new Redis(server.config.redis.url);
  const complete = new StoreKeys(server.config.redis.prefix).userIndexesComplete();
  while ((await redis.exists(complete)) === 0) await new Promise((resume) => setTimeout(resume, 50));
  redis.disconnect();
  // With both scan slots of the token taken, only an indexed lookup is answered.
  const scans = Promise.all(Array.from({ length: MAX_SCANS_PER_TOKEN }, () => send(server.origin, tokens[1], 'GET', UNINDEXED)));
  await new Promise((resume) => setTimeout(resume, 200));
  expect((await send(server.origin, tokens[1], 'GET', UNINDEXED)).status).toBe(429);
  const byDisplayName = await filtered('displayName eq "BENCH bench.user9999"');
  const byPrefix = await filtered('userName sw "Bench.User999"');
  expect((await scans).map((reply) => reply.status)).toEqual(Array(MAX_SCANS_PER_TOKEN).fill(200));
  expect(byDisplayName.status).toBe(200);
  expect(JSON.parse(byDisplayName.text).Resources.map((u: { userName: string }) => u.userName)).toEqual([seededUserName(9_999)]);
  expect(byPrefix.status).toBe(200);
  const names = JSON.parse(byPrefix.text).Resources.map((u: { userName: string }) => u.userName);
  expect(names.sort()).toEqual([999, 9_990, 9_991, 9_992, 9_993, 9_994, 9_995, 9_996, 9_997, 9_998, 9_999].map(seededUserName).sort());
}, 60_000);

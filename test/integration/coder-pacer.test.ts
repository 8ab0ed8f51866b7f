import type { Redis } from 'ioredis';
import { RedisPacer } from '../../src/coder/pacer';
import { RateLimiter } from '../coder-sim/ratelimit';
import { deleteTestKeys, scanKeys, testRedis } from '../redis';
import { openTestStore, type TestStore } from './store-fixtures';

// Its bounds are wall-clock: a run that loses the CPU to the other test files running beside it may miss one once.
// A real regression (seconds, every time) still fails all three tries.
jest.retryTimes(2, { logErrorsBeforeRetry: true });

/**
 * The Redis-backed pacer judged by the simulator's copy of Coder's limiter, on a 2-second window so that a test
 * sees several windows in seconds (the script takes the window as an argument; Coder's is a minute). Real time
 * throughout: the pacer reads Redis's clock, which on this machine is the judge's.
 */

const WINDOW_MS = 2_000;
const LIMIT = 100;
const PATH = '/api/v2/users';
const TOKEN = 'abcdefghij-0123456789abcdefghijkl';
const LANES = 8;

let redis: TestStore['redis'];
let prefix: string;
const extraClients: Redis[] = [];

beforeEach(() => {
  ({ redis, prefix } = openTestStore());
});
afterEach(async () => {
  await deleteTestKeys(redis, prefix);
  redis.disconnect();
  for (const client of extraClients.splice(0)) client.disconnect();
});

function pacerOn(client: Redis): RedisPacer {
  return new RedisPacer({ redis: client, prefix, limitPerMinute: LIMIT, windowMs: WINDOW_MS });
}

/** A pacer on a connection of its own: another replica. */
function replica(): RedisPacer {
  const client = testRedis({ maxRetriesPerRequest: 1 });
  extraClients.push(client);
  return pacerOn(client);
}

/** Resolves just after a window starts, so a test's windows are whole. */
async function windowStart(): Promise<number> {
  const wait = WINDOW_MS - (Date.now() % WINDOW_MS) + 5;
  await new Promise((done) => setTimeout(done, wait));
  return Date.now() - (Date.now() % WINDOW_MS);
}

interface Sent {
  times: number[];
  limited: number;
}

/** LANES callers each sending one request after another through `pacers` (round robin) until `until`. */
async function drive(pacers: RedisPacer[], until: number, judge: RateLimiter, token = TOKEN): Promise<Sent> {
  const sent: Sent = { times: [], limited: 0 };
  await Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      const pacer = pacers[lane % pacers.length];
      while (Date.now() < until) {
        await pacer.acquire(PATH, token);
        sent.times.push(Date.now());
        if (judge.check(`${token}${PATH}`, LIMIT).limited) sent.limited++;
      }
    }),
  );
  return sent;
}

function perWindow(times: number[], first: number, windows: number): number[] {
  const counts = new Array<number>(windows).fill(0);
  for (const t of times) {
    const index = Math.floor((t - first) / WINDOW_MS);
    if (index >= 0 && index < windows) counts[index]++;
  }
  return counts;
}

test('after idle a full window goes out at once; then the steady rate; Coder never answers 429', async () => {
  const pacer = pacerOn(redis);
  const judge = new RateLimiter(Date.now, WINDOW_MS);
  expect(pacer.budget).toBe(95);
  const first = await windowStart();

  const burstStarted = Date.now();
  await Promise.all(Array.from({ length: pacer.budget }, () => pacer.acquire(PATH, TOKEN)));
  const burstMs = Date.now() - burstStarted;
  for (let i = 0; i < pacer.budget; i++) expect(judge.check(`${TOKEN}${PATH}`, LIMIT).limited).toBeUndefined();
  // One script per call, no waiting: the burst takes Redis round trips, far less than a window.
  expect(burstMs).toBeLessThan(WINDOW_MS / 4);

  // The window is spent: the next call waits for the next window.
  await pacer.acquire(PATH, TOKEN);
  expect(Date.now()).toBeGreaterThanOrEqual(first + WINDOW_MS);
  expect(judge.check(`${TOKEN}${PATH}`, LIMIT).limited).toBeUndefined();

  const steady = await drive([pacer], first + 4 * WINDOW_MS, judge);
  expect(steady.limited).toBe(0);
  // Windows 2 to 4 at the steady rate: what the decaying previous window leaves room for, about the budget.
  const counts = perWindow(steady.times, first, 4).slice(1);
  for (const count of counts) {
    expect(count).toBeGreaterThanOrEqual(0.9 * LIMIT);
    expect(count).toBeLessThanOrEqual(LIMIT);
  }
}, 30_000);

test('two pacers on one Redis share one budget; another token or another path has its own', async () => {
  const pacers = [replica(), replica()];
  const judge = new RateLimiter(Date.now, WINDOW_MS);
  const first = await windowStart();

  const both = await drive(pacers, first + 3 * WINDOW_MS, judge);
  expect(both.limited).toBe(0);
  const counts = perWindow(both.times, first, 3);
  // Together, not each: one budget per window (a pacer per process would have sent twice as much).
  for (const count of counts) {
    expect(count).toBeGreaterThanOrEqual(0.9 * LIMIT);
    expect(count).toBeLessThanOrEqual(LIMIT);
  }

  // The shared budget is spent for now, but another token's and another path's are whole.
  const otherStarted = Date.now();
  await Promise.all(Array.from({ length: 50 }, (_, i) => pacers[i % 2].acquire(PATH, 'another-token')));
  await Promise.all(Array.from({ length: 50 }, (_, i) => pacers[i % 2].acquire('/api/v2/users/someone', TOKEN)));
  expect(Date.now() - otherStarted).toBeLessThan(WINDOW_MS / 4);
}, 30_000);

test('the keys name the token by a hash, expire, and carry the prefix (its hash tag on Redis Cluster)', async () => {
  const pacer = pacerOn(redis);
  await pacer.acquire(PATH, TOKEN);
  await pacer.acquire('/api/v2/groups/g1', TOKEN);
  const keys = await scanKeys(redis, `${prefix}:pacer:*`);
  expect(keys).toHaveLength(2);
  for (const key of keys) {
    expect(key).not.toContain(TOKEN);
    expect(key.startsWith(`${prefix}:pacer:`)).toBe(true);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2 * WINDOW_MS);
  }
});

test('without Redis the call is refused with a clear error instead of going out unpaced', async () => {
  // A client that was connected and is gone: its commands fail at once, as the bridge's 'store' client's do.
  const down = testRedis({ enableOfflineQueue: false });
  await new Promise((ready) => down.once('ready', ready));
  const pacer = pacerOn(down);
  down.disconnect();
  await expect(pacer.acquire(PATH, TOKEN)).rejects.toMatchObject({ code: 'pacer_unavailable', message: expect.stringContaining('Redis did not answer') });
});

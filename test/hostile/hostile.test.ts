import { Redis } from 'ioredis';
import { request } from 'undici';
import { oktaUser, startE2E, type E2E } from '../e2e/harness';
import { HOSTILE_CORPUS, type HostileRequest } from './corpus';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/** Every request of the corpus gets a prompt 4xx SCIM error, and neither the store nor Coder changes. */

const ANSWER_WITHIN_MS = 10_000;
const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let e2e: E2E;
let redis: Redis;
let userId: string;
let groupId: string;

beforeAll(async () => {
  e2e = await startE2E();
  redis = new Redis(e2e.config.redis.url);
  const user = await e2e.scim('POST', '/Users', oktaUser('hostile.seed@example.com', 'Hostile', 'Seed'));
  userId = user.body.id;
  const group = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Hostile Seed', members: [{ value: userId }] });
  groupId = group.body.id;
  await e2e.waitForConvergence(15_000);
});
afterAll(async () => {
  redis?.disconnect();
  await e2e?.close();
});

/** Every store key (the queues excluded) with its type and content. */
async function storeSnapshot(): Promise<Record<string, unknown>> {
  const keys = (await redis.keys(`${e2e.prefix}:*`)).filter((key) => !/:(reconcile|resync):/.test(key)).sort();
  const snapshot: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'string') snapshot[key] = await redis.get(key);
    else if (type === 'hash') snapshot[key] = await redis.hgetall(key);
    else if (type === 'set') snapshot[key] = (await redis.smembers(key)).sort();
    else if (type === 'zset') snapshot[key] = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    else if (type === 'list') snapshot[key] = await redis.lrange(key, 0, -1);
    else snapshot[key] = type;
  }
  return snapshot;
}

function authorization(item: HostileRequest): string | undefined {
  switch (item.auth ?? 'valid') {
    case 'valid':
      return `Bearer ${e2e.scimToken}`;
    case 'wrong':
      return `Bearer ${e2e.scimToken}x`;
    case 'admin':
      return `Bearer ${e2e.adminToken}`;
    case 'basic':
      return `Basic ${Buffer.from(`admin:${e2e.scimToken}`).toString('base64')}`;
    case 'none':
      return undefined;
  }
}

async function send(item: HostileRequest): Promise<{ status: number; body: any }> {
  const path = item.path.replace('{user}', userId).replace('{group}', groupId);
  const body = item.body === undefined ? undefined : typeof item.body === 'string' ? item.body : JSON.stringify(item.body).replace('{group}', groupId);
  const headers: Record<string, string> = { ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...item.headers };
  const auth = authorization(item);
  if (auth) headers.authorization = auth;
  const reply = await request(`${e2e.bridge.origin}/scim/v2${path}`, {
    method: item.method as 'GET',
    headers,
    body,
    headersTimeout: ANSWER_WITHIN_MS,
    bodyTimeout: ANSWER_WITHIN_MS,
  });
  const text = await reply.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: reply.statusCode, body: parsed };
}

test('the corpus is large enough to mean something', () => {
  expect(HOSTILE_CORPUS.length).toBeGreaterThanOrEqual(50);
  expect(new Set(HOSTILE_CORPUS.map((item) => item.name)).size).toBe(HOSTILE_CORPUS.length);
});

test('every hostile request gets a 4xx SCIM error and changes nothing in the store or in Coder', async () => {
  const before = await storeSnapshot();
  e2e.sim.resetCalls();
  const wrong: string[] = [];
  for (const item of HOSTILE_CORPUS) {
    const started = Date.now();
    const reply = await send(item);
    const isScimError = Array.isArray(reply.body?.schemas) && reply.body.schemas.includes(SCIM_ERROR) && reply.body.status === String(reply.status);
    if (reply.status < 400 || reply.status >= 500 || !isScimError) wrong.push(`${item.name}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`);
    expect(Date.now() - started).toBeLessThan(ANSWER_WITHIN_MS);
  }
  expect(wrong).toEqual([]);
  // Anything wrongly queued has reached Coder once the queue is idle again.
  await e2e.waitForConvergence(10_000);
  expect(await storeSnapshot()).toEqual(before);
  expect(e2e.sim.writeCalls()).toBe(0);
}, 60_000);

test('an oversize count is capped at the maxResults that ServiceProviderConfig announces', async () => {
  const config = await e2e.scim('GET', '/ServiceProviderConfig');
  const maxResults = config.body.filter.maxResults as number;
  expect(maxResults).toBe(e2e.config.scim.maxPageSize);
  const page = await e2e.scim('GET', `/Users?count=${maxResults * 1000}`);
  expect(page.status).toBe(200);
  expect(page.body.itemsPerPage).toBeLessThanOrEqual(maxResults);
});

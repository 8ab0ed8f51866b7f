import { Redis } from 'ioredis';
import { PAGE_MEMBER_BUDGET } from '../../src/scim/limits';
import { startScimServer, type ScimServer } from '../integration/scim-harness';
import { groupBody, seedBareUsers, seedMembership, send } from './attacks';
import { EVENT_LOOP_BOUND_MS, measureEventLoop } from './event-loop';

// Its bounds are wall-clock: a run that loses the CPU to the other test files running beside it may miss one once.
// A real regression (seconds, every time) still fails all three tries.
jest.retryTimes(2, { logErrorsBeforeRetry: true });

/**
 * Responses stay bounded however large the groups: a page of groups keeps under a member budget (fewer groups
 * than asked, RFC 7644 §3.4.2.4, with counts that let the client page on), and one group of 100,000 members
 * is written out without holding the event loop.
 */

const GROUPS = 10;
const MEMBERS_EACH = 10_000;
const LARGEST_GROUP = 100_000;

let server: ScimServer;
let redis: Redis;
let userIds: string[];

beforeAll(async () => {
  server = await startScimServer();
  redis = new Redis(server.config.redis.url);
  userIds = await seedBareUsers(redis, server.config.redis.prefix, LARGEST_GROUP);
  for (let i = 0; i < GROUPS; i++) {
    const group = JSON.parse((await send(server.origin, server.token, 'POST', '/Groups', groupBody(`ten thousand ${i}`))).text);
    await seedMembership(redis, server.config.redis.prefix, group.id, userIds.slice(0, MEMBERS_EACH));
  }
}, 120_000);
afterAll(async () => {
  redis?.disconnect();
  await server?.close();
});

test(`a page of ${GROUPS} groups of ${MEMBERS_EACH} members holds ${PAGE_MEMBER_BUDGET} members, and paging on reaches every group`, async () => {
  const seen: string[] = [];
  let startIndex = 1;
  for (let page = 0; page < GROUPS + 1 && seen.length < GROUPS; page++) {
    const { result, longestBlockMs } = await measureEventLoop(() => send(server.origin, server.token, 'GET', `/Groups?startIndex=${startIndex}&count=100`));
    expect(result.status).toBe(200);
    expect(longestBlockMs).toBeLessThan(EVENT_LOOP_BOUND_MS);
    expect(result.text.length).toBeLessThan(3 * 1024 * 1024);
    const body = JSON.parse(result.text);
    expect(body).toMatchObject({ totalResults: GROUPS, startIndex, itemsPerPage: body.Resources.length });
    expect(body.Resources.length).toBeGreaterThanOrEqual(1);
    const members = body.Resources.reduce((sum: number, g: { members?: unknown[] }) => sum + (g.members?.length ?? 0), 0);
    expect(members).toBeLessThanOrEqual(Math.max(PAGE_MEMBER_BUDGET, MEMBERS_EACH));
    for (const group of body.Resources) {
      expect(group.members).toHaveLength(MEMBERS_EACH);
      seen.push(group.id);
    }
    startIndex += body.itemsPerPage;
  }
  expect(new Set(seen).size).toBe(GROUPS);
}, 60_000);

test('without members, a page holds every group asked for', async () => {
  const reply = await send(server.origin, server.token, 'GET', '/Groups?excludedAttributes=members');
  expect(reply.status).toBe(200);
  expect(JSON.parse(reply.text)).toMatchObject({ totalResults: GROUPS, itemsPerPage: GROUPS });
});

test(`one group of ${LARGEST_GROUP} members is answered whole, without holding the event loop`, async () => {
  const group = JSON.parse((await send(server.origin, server.token, 'POST', '/Groups', groupBody('one hundred thousand'))).text);
  await seedMembership(redis, server.config.redis.prefix, group.id, userIds);
  const { result, longestBlockMs } = await measureEventLoop(() => send(server.origin, server.token, 'GET', `/Groups/${group.id}`));
  expect(result.status).toBe(200);
  expect(longestBlockMs).toBeLessThan(EVENT_LOOP_BOUND_MS);
  const body = JSON.parse(result.text);
  expect(body.members).toHaveLength(LARGEST_GROUP);
  expect(new Set(body.members.map((m: { value: string }) => m.value)).size).toBe(LARGEST_GROUP);
  expect(body.members[0]).toEqual({ value: expect.any(String), display: expect.stringMatching(/^Bare User \d+$/), $ref: expect.stringContaining('/Users/'), type: 'User' });
  expect(body.meta.version).toBe(result.headers.etag);
}, 60_000);

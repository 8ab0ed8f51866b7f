import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { MAX_PATCH_OPERATIONS, MAX_SCANS_PER_TOKEN } from '../src/scim/limits';
import {
  dottedEmailUser,
  duplicateEmailsPatch,
  groupBody,
  largestUser,
  oneMemberOperations,
  patchOf,
  seedBareUsers,
  seedMembership,
  send,
  wideProjectionSearch,
  type Reply,
} from '../test/bounded/attacks';
import { measureEventLoop } from '../test/bounded/event-loop';
import { startScimServer, type ScimServer } from '../test/integration/scim-harness';
import { seedUsers } from './seed';
import { seededUserName } from './workload';

/**
 * `npm run bench:hostile`: issue 9's cost attacks, each at the largest size the limits accept, against an
 * in-process bridge on the local Redis. For each: the status, the response time, and the longest the event
 * loop was held (perf_hooks.monitorEventLoopDelay), against the 100 ms target. Figures only: nothing is asserted.
 */

const TARGET_MS = 100;
const USERS = 10_000;
const LARGEST_GROUP = 100_000;
const SCANS = 10;

interface Row {
  attack: string;
  size: string;
  status: string;
  responseMs: number;
  longestBlockMs: number;
  note?: string;
}

const rows: Row[] = [];

async function attack(name: string, size: string, expected: number, run: () => Promise<Reply>, note?: (reply: Reply) => string): Promise<Reply> {
  const { result, elapsedMs, longestBlockMs } = await measureEventLoop(run);
  const status = result.status === expected ? String(result.status) : `${result.status} (wanted ${expected})`;
  rows.push({ attack: name, size, status, responseMs: elapsedMs, longestBlockMs, note: note?.(result) });
  return result;
}

function kib(text: string): string {
  return `${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB`;
}

function format(): string {
  const header = ['attack', 'size', 'status', 'response ms', 'longest block ms', `<= ${TARGET_MS} ms`, 'note'];
  const lines = rows.map((r) => [r.attack, r.size, r.status, r.responseMs.toFixed(0), r.longestBlockMs.toFixed(0), r.longestBlockMs <= TARGET_MS ? 'yes' : 'NO', r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line)].join('\n');
}

async function healthz(origin: string): Promise<number> {
  const reply = await request(`${origin}/healthz`);
  await reply.body.text();
  return reply.statusCode;
}

/** Runs `probe` back to back (20 ms apart) until `until` settles; the slowest answer in ms. */
async function slowestDuring(until: Promise<unknown>, probe: () => Promise<unknown>): Promise<number> {
  let settled = false;
  void until.finally(() => (settled = true));
  let slowest = 0;
  while (!settled) {
    const started = performance.now();
    await probe();
    slowest = Math.max(slowest, performance.now() - started);
    await new Promise((resume) => setTimeout(resume, 20));
  }
  return slowest;
}

async function main(): Promise<void> {
  const tokens = Array.from({ length: SCANS / MAX_SCANS_PER_TOKEN }, () => `scim-${randomUUID()}`);
  const server: ScimServer = await startScimServer({ tokens });
  const redis = new Redis(server.config.redis.url);
  const prefix = server.config.redis.prefix;
  const call = (method: string, path: string, body?: unknown) => send(server.origin, tokens[0], method, path, body);
  try {
    process.stderr.write(`seeding ${USERS} users, 10 groups of ${USERS} members and one of ${LARGEST_GROUP}...\n`);
    const userIds = await seedUsers(server.store, 0, USERS);
    const bareIds = await seedBareUsers(redis, prefix, LARGEST_GROUP);
    for (let i = 0; i < 10; i++) {
      const group = JSON.parse((await call('POST', '/Groups', groupBody(`bench ten thousand ${i}`))).text);
      await seedMembership(redis, prefix, group.id, userIds);
    }
    const largest = JSON.parse((await call('POST', '/Groups', groupBody('bench one hundred thousand'))).text);
    await seedMembership(redis, prefix, largest.id, bareIds);

    await attack('e-mail regex', 'a@ + 128,000 dots + space (125 KiB)', 400, () => call('POST', '/Users', dottedEmailUser(128_003)));
    await attack('e-mail regex', 'a@ + 251 dots + space (254, the limit)', 400, () => call('POST', '/Users', dottedEmailUser(254)));
    const created = await attack('largest user', 'every string and list at its limit', 201, () => call('POST', '/Users', largestUser()), (reply) => kib(reply.text));
    const user = JSON.parse(created.text);
    const dedupe = duplicateEmailsPatch(user.emails);
    await attack('PATCH dedupe', `${(dedupe.Operations as unknown[]).length} add-emails ops x 100 values (${kib(JSON.stringify(dedupe))})`, 200, () => call('PATCH', `/Users/${user.id}`, dedupe));
    const group = JSON.parse((await call('POST', '/Groups', groupBody('bench thousand ops'))).text);
    await attack('PATCH group ops', `${MAX_PATCH_OPERATIONS} one-member add ops`, 204, () => call('PATCH', `/Groups/${group.id}`, oneMemberOperations(userIds)));
    const tooMany = patchOf(Array.from({ length: MAX_PATCH_OPERATIONS + 1 }, () => ({ op: 'replace', path: 'active', value: true })));
    await attack('PATCH group ops', `${MAX_PATCH_OPERATIONS + 1} ops (over the limit)`, 400, () => call('PATCH', `/Users/${user.id}`, tooMany));
    await attack('projection', '.search, 100 attribute names, count 1000', 200, () => call('POST', '/Users/.search', wideProjectionSearch(1_000)), (reply) => kib(reply.text));
    await attack('key aliasing', 'member value "<user id>:groups"', 400, () =>
      call('PATCH', `/Groups/${group.id}`, patchOf([{ op: 'add', path: 'members', value: [{ value: `${userIds[0]}:groups` }] }])),
    );
    await attack('key aliasing', 'then GET /Groups?excludedAttributes=members', 200, () => call('GET', '/Groups?excludedAttributes=members'));
    const rssBefore = process.memoryUsage().rss;
    await attack('list size', `GET /Groups, 10 groups of ${USERS} members`, 200, () => call('GET', '/Groups'), (reply) => {
      const body = JSON.parse(reply.text);
      return `${kib(reply.text)}, itemsPerPage ${body.itemsPerPage} of ${body.totalResults}, RSS +${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(0)} MiB`;
    });
    const rssLarge = process.memoryUsage().rss;
    await attack('large group', `GET /Groups/:id, ${LARGEST_GROUP} members`, 200, () => call('GET', `/Groups/${largest.id}`), (reply) => `${kib(reply.text)}, RSS +${((process.memoryUsage().rss - rssLarge) / 2 ** 20).toFixed(0)} MiB`);

    const unindexed = `/Users?filter=${encodeURIComponent('userName co "zzz"')}`;
    const lookup = `/Users?filter=${encodeURIComponent(`userName eq "${seededUserName(USERS - 1)}"`)}`;
    let healthSlowest = 0;
    let lookupSlowest = 0;
    await attack('unindexed filters', `${SCANS} x userName co "zzz" at ${USERS} users (${tokens.length} tokens)`, 200, async () => {
      const scans = Promise.all(tokens.flatMap((token) => Array.from({ length: MAX_SCANS_PER_TOKEN }, () => send(server.origin, token, 'GET', unindexed))));
      [healthSlowest, lookupSlowest] = await Promise.all([slowestDuring(scans, () => healthz(server.origin)), slowestDuring(scans, () => call('GET', lookup))]);
      const replies = await scans;
      return replies.find((reply) => reply.status !== 200) ?? replies[0];
    }, () => `slowest /healthz ${healthSlowest.toFixed(0)} ms, slowest indexed lookup ${lookupSlowest.toFixed(0)} ms`);
    await attack('unindexed filters', `${SCANS} at once on one token`, 429, async () => {
      const replies = await Promise.all(Array.from({ length: SCANS }, () => call('GET', unindexed)));
      return replies.find((reply) => reply.status === 429) ?? replies[0];
    });

    // The edge classes (issue-9a's fixes), at the sizes the issue reports.
    await attack('IdP lockout', '25 requests without a token, then the valid token', 200, async () => {
      for (let i = 0; i < 25; i++) await (await request(`${server.origin}/scim/v2/Users`)).body.text();
      return call('GET', '/Users?count=1');
    });
    await attack('bad %-encoding', 'GET /Users/%E0%A4%A', 400, () => call('GET', '/Users/%E0%A4%A'));
    await attack('Host header', 'GET /Users/:id with Host: evil.example', 200, async () => {
      const reply = await request(`${server.origin}/scim/v2/Users/${user.id}`, { headers: { authorization: `Bearer ${tokens[0]}`, host: 'evil.example' } });
      return { status: reply.statusCode, headers: reply.headers, text: await reply.body.text() };
    }, (reply) => (reply.text.includes('evil.example') ? 'meta.location names evil.example' : 'meta.location ignores the Host header'));

    process.stdout.write(`\nnpm run bench:hostile (${new Date().toISOString()}, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')})\n\n${format()}\n`);
  } finally {
    redis.disconnect();
    await server.close();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`bench:hostile failed: ${String(err)}\n`);
  process.exit(1);
});

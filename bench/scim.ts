import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisStore } from '../src/store/redis-store';
import { startChild, type BenchChild } from './child';
import type { LoadJob, LoadResult } from './load-result';
import { measureMemberPatches, type PatchLatency, type PatchTarget } from './member-patch';
import { deletePrefixedKeys } from './redis-cleanup';
import { formatReport, type LoadRow, type ServerName } from './report';
import { residentMiB } from './rss';
import { seedGroup, seedUsers } from './seed';
import { seededUserName, SCIM_TOKEN, userDocument, type Operation } from './workload';

/**
 * `npm run bench:scim`: the bare Express ceiling, a bare scimmy-routers server and the bridge, each in its own
 * process, loaded by autocannon from another; then the bridge's group-PATCH latency at 100 / 10,000 / 100,000
 * members and its resident memory with 100,000 users stored. Prints one table and the targets, PASS or MISS.
 */

const SEEDED_USERS = 10_000;
const MEMORY_USERS = 100_000;
const GROUP_SIZES = [100, 10_000, 100_000];
const PATCHES_PER_GROUP = 1_000;
const PATCH_WARMUP_ROUNDS = 50;
const DURATION_SECONDS = Number(process.env.BENCH_DURATION ?? 8);
const WARMUP_SECONDS = 2;
const CONNECTIONS = [10, 50];
const OPERATIONS: Operation[] = ['lookup', 'get', 'create'];

interface Seeded {
  userNames: string[];
  ids: string[];
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function startServer(script: string, options: Parameters<typeof startChild>[1] = {}): Promise<{ child: BenchChild; origin: string }> {
  const child = startChild(script, options);
  const { origin } = await child.next<{ origin: string }>('ready');
  return { child, origin };
}

async function load(runner: BenchChild, job: Omit<LoadJob, 'type'>): Promise<LoadResult> {
  const answer = Promise.race([runner.next<LoadResult>('result'), runner.next<{ message: string }>('result-error').then((e) => Promise.reject(new Error(e.message)))]);
  runner.send({ type: 'run', ...job });
  return answer;
}

async function measureServer(runner: BenchChild, server: ServerName, origin: string, seeded: Seeded): Promise<LoadRow[]> {
  const base = { origin, userNames: seeded.userNames, ids: seeded.ids };
  await load(runner, { ...base, operation: 'lookup', connections: 50, durationSeconds: WARMUP_SECONDS, tag: `${server}-warmup` });
  const rows: LoadRow[] = [];
  for (const operation of OPERATIONS) {
    for (const connections of CONNECTIONS) {
      const result = await load(runner, { ...base, operation, connections, durationSeconds: DURATION_SECONDS, tag: `${server}-${randomUUID().slice(0, 8)}` });
      progress(`${server} ${operation} @${connections}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms} ms, failures ${result.failures}`);
      rows.push({ server, operation, connections, result });
    }
  }
  return rows;
}

async function benchExpressCeiling(runner: BenchChild): Promise<LoadRow[]> {
  const { child, origin } = await startServer('servers/express-ceiling.ts');
  try {
    return await measureServer(runner, 'express-ceiling', origin, { userNames: [seededUserName(0)], ids: ['fixed'] });
  } finally {
    await child.stop();
  }
}

async function benchScimmyMap(runner: BenchChild): Promise<LoadRow[]> {
  const { child, origin } = await startServer('servers/scimmy-map.ts');
  try {
    const userNames = Array.from({ length: SEEDED_USERS }, (_, i) => seededUserName(i));
    const seededAnswer = child.next<{ ids: string[] }>('seeded');
    child.send({ type: 'seed', users: userNames.map(userDocument) });
    const { ids } = await seededAnswer;
    return await measureServer(runner, 'scimmy-map', origin, { userNames, ids });
  } finally {
    await child.stop();
  }
}

async function patchLatencies(store: RedisStore, origin: string, memberIds: string[]): Promise<PatchLatency[]> {
  const targets: PatchTarget[] = [];
  for (const size of GROUP_SIZES) {
    const members = memberIds.slice(0, size);
    targets.push({ groupId: await seedGroup(store, `bench-group-${size}`, members), memberId: members[0], members: size });
  }
  const latencies = await measureMemberPatches(origin, targets, PATCHES_PER_GROUP, PATCH_WARMUP_ROUNDS);
  for (const { members, p50Ms, p99Ms } of latencies) progress(`PATCH @${members} members: p50 ${p50Ms.toFixed(2)} ms, p99 ${p99Ms.toFixed(2)} ms`);
  return latencies;
}

async function settledRss(bridge: BenchChild): Promise<number> {
  for (let i = 0; i < 2; i++) {
    const done = bridge.next('gc-done');
    bridge.send({ type: 'gc' });
    await done;
    await sleep(1_000);
  }
  return residentMiB(bridge.pid);
}

async function main(): Promise<void> {
  const started = Date.now();
  const prefix = `bench-${randomUUID()}`;
  const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 3 });
  const store = new RedisStore(redis, prefix);
  const logDir = resolve(__dirname, '..', '.bench');
  mkdirSync(logDir, { recursive: true });
  // One log, replaced each run: the bridge logs a line per request (~50 MB a run).
  const bridgeLog = resolve(logDir, 'bridge.log');
  rmSync(bridgeLog, { force: true });
  const runner = startChild('autocannon-run.ts');
  let bridge: BenchChild | undefined;
  try {
    await runner.next('ready');
    const load: LoadRow[] = [];
    load.push(...(await benchExpressCeiling(runner)));
    load.push(...(await benchScimmyMap(runner)));

    progress(`seeding ${SEEDED_USERS} users into the bridge's store (prefix ${prefix})`);
    const ids = await seedUsers(store, 0, SEEDED_USERS);
    const userNames = ids.map((_, i) => seededUserName(i));
    const served = await startServer('servers/bridge.ts', {
      stdoutFile: bridgeLog,
      env: {
        PORT: '0',
        HOST: '127.0.0.1',
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_PREFIX: prefix,
        CODER_URL: 'http://127.0.0.1:9',
        CODER_SESSION_TOKEN: 'bench-unused',
        SCIM_BEARER_TOKEN: SCIM_TOKEN,
        LOG_LEVEL: 'info',
        RESYNC_INTERVAL: '0',
      },
    });
    bridge = served.child;
    const startupRssMiB = await settledRss(bridge);
    load.push(...(await measureServer(runner, 'bridge', served.origin, { userNames, ids })));

    progress(`seeding users up to ${MEMORY_USERS} seeded`);
    ids.push(...(await seedUsers(store, SEEDED_USERS, MEMORY_USERS)));
    const patches = await patchLatencies(store, served.origin, ids);
    const { users: usersStored } = await store.counts();
    const rssMiB = await settledRss(bridge);

    process.stdout.write(`\n${formatReport({ load, patches, startupRssMiB, rssMiB, usersStored })}\n`);
    process.stdout.write(`\nbridge log: ${bridgeLog}\nwhole run: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  } finally {
    await bridge?.stop();
    await runner.stop();
    const deleted = await deletePrefixedKeys(redis, prefix);
    progress(`deleted ${deleted} Redis keys under ${prefix}:`);
    await redis.quit();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scim failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});

import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { startBridge, type Bridge, type BridgeMode } from '../../src/bridge';
import { loadConfig, type Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/log';
import { RECONCILE_QUEUE } from '../../src/queue/jobs';
import { RESYNC_QUEUE } from '../../src/queue/resync-queue';
import { mapGroup, mapUser } from '../../src/reconcile/mapping';
import { RedisStore } from '../../src/store/redis-store';
import type { AppliedUser } from '../../src/model/sync';
import { startCoderSim, type CoderSim, type CoderSimOptions } from '../coder-sim';
import { CODER_RATE_WINDOW_MS } from '../coder-sim/ratelimit';
import { deleteTestKeys, REDIS_URL } from '../redis';

/**
 * End-to-end harness: the Coder simulator, and the real bridge (HTTP, Redis, workers) in this process under a
 * random Redis prefix. `desiredInCoder()` says what Coder must hold given the store's desired state, and
 * `actualInCoder()` what the simulator holds, in the same shape, so a test can wait for the two to be equal.
 */

export interface CoderUserView {
  username: string;
  email: string;
  name: string;
  suspended: boolean;
}

/** Users keyed by e-mail (lower-cased); groups keyed by Coder group name with sorted member e-mails. */
export interface CoderView {
  users: Record<string, CoderUserView>;
  groups: Record<string, { displayName: string; members: string[] }>;
}

export interface ScimReply {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/** A bridge started some other way than in this process (see bridge-process.ts). */
export interface LaunchedBridge {
  origin?: string;
  close(): Promise<void>;
}

/** Starts the bridge from the environment the harness built (PORT is fixed, so a restart keeps the origin). */
export type BridgeLauncher = (env: Record<string, string>) => Promise<LaunchedBridge>;

export interface E2E {
  sim: CoderSim;
  /** `metrics` only when the bridge runs in this process. */
  bridge: LaunchedBridge & Partial<Pick<Bridge, 'metrics'>>;
  config: Config;
  prefix: string;
  scimToken: string;
  adminToken: string;
  store: RedisStore;
  scim(method: string, path: string, body?: unknown): Promise<ScimReply>;
  admin(method: string, path: string, body?: unknown): Promise<ScimReply>;
  desiredInCoder(): Promise<CoderView>;
  actualInCoder(): CoderView;
  /** Polls until Coder holds exactly the desired state and the queue is idle; returns the time it took. */
  waitForConvergence(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

export interface E2EOptions {
  sim?: CoderSimOptions;
  /** A function when the variables depend on the simulator (its token, written to a file). */
  env?: Record<string, string> | ((sim: CoderSim) => Record<string, string>);
  mode?: BridgeMode;
  logger?: Logger;
  /** Default: startBridge in this process. */
  launch?: BridgeLauncher;
}

async function call(origin: string, token: string, method: string, path: string, body?: unknown): Promise<ScimReply> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/scim+json';
  const reply = await request(`${origin}${path}`, { method: method as 'GET', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await reply.body.text();
  return { status: reply.statusCode, headers: reply.headers, body: text ? JSON.parse(text) : undefined };
}

export async function startE2E(options: E2EOptions = {}): Promise<E2E> {
  const sim = await startCoderSim(options.sim);
  const prefix = `e2e-${randomUUID()}`;
  const scimToken = `scim-${randomUUID()}`;
  const adminToken = `admin-${randomUUID()}`;
  const env: Record<string, string> = {
    PORT: options.launch ? String(await freePort()) : '0',
    HOST: '127.0.0.1',
    REDIS_URL,
    REDIS_PREFIX: prefix,
    CODER_URL: sim.url,
    CODER_SESSION_TOKEN: sim.token,
    SCIM_BEARER_TOKEN: scimToken,
    ADMIN_TOKEN: adminToken,
    RESYNC_INTERVAL: '0',
    // Tell the bridge the simulator's real limit, as an operator would (0: the simulator has none).
    CODER_API_RATE_LIMIT: String(options.sim?.rateLimitPerMinute ?? 0),
    CODER_API_RATE_WINDOW: `${options.sim?.rateLimitWindowMs ?? CODER_RATE_WINDOW_MS}ms`,
    WORKER_CONCURRENCY: '8',
    LOG_LEVEL: 'silent',
    ...(typeof options.env === 'function' ? options.env(sim) : options.env),
  };
  const config = loadConfig(env);
  const logger = options.logger ?? createLogger('silent');
  const bridge = options.launch ? await options.launch(env) : await startBridge(config, options.mode ?? 'all', logger);
  const redis = new Redis(config.redis.url);
  const store = new RedisStore(redis, prefix);
  const origin = bridge.origin ?? '';

  async function desiredInCoder(): Promise<CoderView> {
    const view: CoderView = { users: {}, groups: {} };
    const emailById = new Map<string, string>();
    const users = await store.listUsers(0, 1_000_000);
    for (const stored of await store.getUsers(users.ids)) {
      if (!stored) continue;
      const user = mapUser(stored.doc);
      emailById.set(stored.id, user.email.toLowerCase());
      view.users[user.email.toLowerCase()] = { ...user, email: user.email.toLowerCase() };
    }
    if (config.userDeletePolicy === 'suspend') {
      // A user deleted through SCIM stays in Coder, suspended: its tombstone remembers what was applied.
      for (const id of await store.syncIds('user')) {
        if (emailById.has(id)) continue;
        const applied = (await store.getSync<AppliedUser>('user', id))?.applied;
        if (!applied) continue;
        const email = applied.email.toLowerCase();
        view.users[email] = { username: applied.username, email, name: applied.name, suspended: true };
      }
    }
    const groups = await store.listGroups(0, 1_000_000);
    for (const stored of await store.getGroups(groups.ids)) {
      if (!stored) continue;
      const group = mapGroup(stored.doc);
      const members = (await store.memberIds(stored.id)).map((id) => emailById.get(id) ?? `?${id}`).sort();
      view.groups[group.name] = { displayName: group.displayName, members };
    }
    return view;
  }

  /** What Coder holds, less what the bridge never manages (the owner, users created directly in the simulator). */
  function actualInCoder(): CoderView {
    const view: CoderView = { users: {}, groups: {} };
    const emailById = new Map<string, string>();
    for (const user of sim.users()) {
      if (user.id === sim.ownerId) continue;
      emailById.set(user.id, user.email.toLowerCase());
      view.users[user.email.toLowerCase()] = { username: user.username, email: user.email.toLowerCase(), name: user.name, suspended: user.status === 'suspended' };
    }
    for (const group of sim.groups()) {
      view.groups[group.name] = { displayName: group.display_name, members: [...group.members].map((id) => emailById.get(id) ?? `?${id}`).sort() };
    }
    return view;
  }

  const queue = new Queue(RECONCILE_QUEUE, { connection: redis, prefix });
  // A test may restart Redis (redis-server.ts): the harness's own clients reconnect quietly.
  redis.on('error', () => undefined);
  queue.on('error', () => undefined);

  async function idle(): Promise<boolean> {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).every((n) => n === 0);
  }

  async function waitForConvergence(timeoutMs = 60_000): Promise<number> {
    const started = Date.now();
    let desired: CoderView | undefined;
    let actual: CoderView | undefined;
    while (Date.now() - started < timeoutMs) {
      desired = await desiredInCoder();
      actual = actualInCoder();
      if ((await idle()) && JSON.stringify(sortKeys(desired)) === JSON.stringify(sortKeys(actual))) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Let the test's own expectation print the difference, and whether work was still queued (slow) or not (lost).
    expect({ queueIdle: await idle(), coder: actual }).toEqual({ queueIdle: true, coder: desired });
    throw new Error(`not converged within ${timeoutMs} ms`);
  }

  return {
    sim,
    bridge,
    config,
    prefix,
    scimToken,
    adminToken,
    store,
    scim: (method, path, body) => call(origin, scimToken, method, `/scim/v2${path}`, body),
    admin: (method, path, body) => call(origin, adminToken, method, `/admin${path}`, body),
    desiredInCoder,
    actualInCoder,
    waitForConvergence,
    close: async () => {
      await bridge.close();
      for (const name of [RECONCILE_QUEUE, RESYNC_QUEUE]) {
        const q = new Queue(name, { connection: redis, prefix });
        await q.obliterate({ force: true });
        await q.close();
      }
      await queue.close();
      await deleteTestKeys(redis, prefix);
      redis.disconnect();
      await sim.close();
    },
  };
}

/** A port that was free a moment ago (for a bridge that must come back on the same origin after a restart). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function sortKeys(view: CoderView): CoderView {
  const users = Object.fromEntries(Object.entries(view.users).sort(([a], [b]) => a.localeCompare(b)));
  const groups = Object.fromEntries(Object.entries(view.groups).sort(([a], [b]) => a.localeCompare(b)));
  return { users, groups };
}

/** An Okta-style user body. */
export function oktaUser(userName: string, given: string, family: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    name: { givenName: given, familyName: family },
    emails: [{ primary: true, value: userName, type: 'work' }],
    displayName: `${given} ${family}`,
    locale: 'en-US',
    externalId: `00u${randomUUID().slice(0, 8)}`,
    groups: [],
    password: 'placeholder-1mz050nq',
    active: true,
    ...extra,
  };
}

export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

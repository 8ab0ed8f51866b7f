import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Queue } from 'bullmq';
import type { Router } from 'express';
import { request } from 'undici';
import { loadConfig, type Config } from '../../src/config';
import { createApp } from '../../src/http/app';
import { createHttpServer } from '../../src/http/server';
import type { AuthLimit } from '../../src/http/auth-limiter';
import type { ReadinessProbe } from '../../src/http/health';
import { createLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics';
import { RECONCILE_QUEUE, reconcileJobId } from '../../src/queue/jobs';
import { ReconcileProducer } from '../../src/queue/producer';
import { RedisStore } from '../../src/store/redis-store';
import { createRedis } from '../../src/store/redis';
import type { ResourceKind } from '../../src/model/resource';
import { strongToken } from '../fixtures/tokens';
import { deleteTestKeys, REDIS_URL } from '../redis';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * A real bridge HTTP server for integration tests: real Redis under a random key prefix, a real
 * ReconcileProducer, listening on a free loopback port. `close()` deletes the prefix's keys and the queue.
 */

export interface ScimReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed JSON body, or undefined when there is none. */
  body: any;
}

export interface RequestOptions {
  body?: unknown;
  /** A raw body, sent as is (for malformed JSON). */
  raw?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

export interface ScimServer {
  config: Config;
  origin: string;
  store: RedisStore;
  token: string;
  /** `path` is relative to the origin, e.g. `/scim/v2/Users`. */
  call(method: string, path: string, options?: RequestOptions): Promise<ScimReply>;
  /** Whether a reconcile job for the resource is waiting (or delayed) in the queue. */
  hasQueuedJob(kind: ResourceKind, id: string): Promise<boolean>;
  /** Empties the reconcile queue, so that a later hasQueuedJob proves a later write queued the job. */
  clearQueue(): Promise<void>;
  close(): Promise<void>;
}

export interface ServerOptions {
  tokens?: string[];
  adminToken?: string;
  admin?: Router;
  authLimit?: AuthLimit;
  env?: Record<string, string>;
  /** Serve with a store whose Redis client points here instead (e.g. a closed port). */
  storeRedisUrl?: string;
  readiness?: ReadinessProbe;
  /** Collects the server's log lines (JSON text) here instead of discarding them. */
  logLines?: string[];
  /** Serve /metrics (behind the admin token unless METRICS_OPEN). */
  metrics?: boolean;
}

export async function startScimServer(options: ServerOptions = {}): Promise<ScimServer> {
  const prefix = `test-${randomUUID()}`;
  const tokens = options.tokens ?? [strongToken('scim')];
  const config = loadConfig({
    CODER_URL: 'http://127.0.0.1:9',
    CODER_SESSION_TOKEN: 'unused',
    SCIM_BEARER_TOKEN: tokens.join(','),
    REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    ...(options.adminToken && { ADMIN_TOKEN: options.adminToken }),
    ...options.env,
  });
  const { logLines } = options;
  const logger = logLines ? createLogger('info', { write: (line: string) => void logLines.push(line) }) : createLogger('silent');
  const redis = createRedis(config.redis, 'store');
  const storeRedis = options.storeRedisUrl ? createRedis({ ...config.redis, url: options.storeRedisUrl }, 'store') : redis;
  const queueRedis = createRedis(config.redis, 'bullmq');
  // The store client refuses commands until connected (no offline queue): wait, as main does before serving.
  if (redis.status !== 'ready') await once(redis, 'ready');
  const store = new RedisStore(storeRedis, prefix);
  const producer = new ReconcileProducer(queueRedis, prefix);
  const queue = new Queue(RECONCILE_QUEUE, { connection: queueRedis, prefix });
  const metrics = options.metrics ? createMetrics({ defaultMetrics: false }) : undefined;
  const app = createApp({ config, store, producer, logger, metrics, admin: options.admin, authLimit: options.authLimit, readiness: options.readiness });
  // The production server (its timeouts and connection cap), listening on a free loopback port.
  const server: Server = createHttpServer(config, app, logger);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function call(method: string, path: string, opts: RequestOptions = {}): Promise<ScimReply> {
    const headers: Record<string, string> = {};
    const token = opts.token === undefined ? tokens[0] : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = 'application/scim+json';
    Object.assign(headers, opts.headers);
    const reply = await request(`${origin}${path}`, { method: method as 'GET', headers, body });
    const text = await reply.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: reply.statusCode, headers: reply.headers, text, body: parsed };
  }

  async function hasQueuedJob(kind: ResourceKind, id: string): Promise<boolean> {
    const jobId = await queue.getDeduplicationJobId(reconcileJobId(kind, id));
    if (!jobId) return false;
    const state = await queue.getJobState(jobId);
    return state === 'waiting' || state === 'delayed' || state === 'prioritized';
  }

  async function clearQueue(): Promise<void> {
    await queue.obliterate({ force: true });
  }

  async function close(): Promise<void> {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await queue.obliterate({ force: true });
    await queue.close();
    await producer.close();
    await deleteTestKeys(redis, prefix);
    for (const client of new Set([redis, storeRedis, queueRedis])) client.disconnect();
  }

  return { config, origin, store, token: tokens[0], call, hasQueuedJob, clearQueue, close };
}

/** An Okta-style user body with the given userName (also its e-mail when it is one). */
export function userBody(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const email = userName.includes('@') ? userName : `${userName}@example.com`;
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: email, type: 'work' }],
    active: true,
    ...extra,
  };
}

export function groupBody(displayName: string, memberIds: string[] = [], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: [GROUP_SCHEMA],
    displayName,
    members: memberIds.map((value) => ({ value })),
    ...extra,
  };
}

export function patchBody(...operations: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations };
}

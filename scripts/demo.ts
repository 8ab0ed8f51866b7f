/**
 * `npm run demo`: the bridge in front of a simulated Coder, for a newcomer with no Coder at hand.
 * Uses the Redis at REDIS_URL (default 127.0.0.1:6379) when one answers, else starts redis-server on a free
 * port; starts the Coder simulator and the bridge; prints the SCIM URL, the token and curl commands to try;
 * then prints each user and group as it arrives in the simulated Coder. Ctrl-C stops everything it started.
 * Env: PORT (default 8080, or a free port when 8080 is taken), REDIS_URL, LOG_LEVEL (bridge logs on stderr, default warn).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import pino from 'pino';
import { startBridge, type Bridge } from '../src/bridge';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log';
import { startCoderSim } from '../test/coder-sim';
import { deleteTestKeys } from '../test/redis';
import { startOwnRedis, type OwnRedis } from '../test/e2e/redis-server';
import { describeChanges, snapshot, type CoderSnapshot } from './demo/coder-changes';

const WATCH_INTERVAL_MS = 300;
const PREFERRED_PORT = 8080;

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function curlCommands(scimUrl: string, token: string): string[] {
  const user = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'ada.lovelace@example.com',
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ value: 'ada.lovelace@example.com', primary: true, type: 'work' }],
    active: true,
  };
  const group = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Analytical Engines' };
  const curl = (path: string, body: unknown) =>
    `curl -s -X POST ${scimUrl}${path} -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/scim+json' -d '${JSON.stringify(body)}'`;
  return [curl('/Users', user), curl('/Groups', group)];
}

async function main(): Promise<void> {
  const requestedRedis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let ownRedis: OwnRedis | undefined;
  let redisUrl = requestedRedis;
  if (!(await redisAnswers(requestedRedis))) {
    ownRedis = await startOwnRedis();
    redisUrl = ownRedis.url;
  }
  const sim = await startCoderSim();
  const prefix = `demo-${randomUUID().slice(0, 8)}`;
  const scimToken = `demo-scim-${randomUUID()}`;
  const adminToken = `demo-admin-${randomUUID()}`;
  const port = process.env.PORT ?? ((await portIsFree(PREFERRED_PORT)) ? String(PREFERRED_PORT) : '0');
  const config = loadConfig({
    PORT: port,
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    CODER_URL: sim.url,
    CODER_SESSION_TOKEN: sim.token,
    SCIM_BEARER_TOKEN: scimToken,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const logger = createLogger(config.logLevel, pino.destination({ dest: 2, sync: true }));
  const bridge: Bridge = await startBridge(config, 'all', logger);
  const scimUrl = `${bridge.origin}/scim/v2`;

  say('coder-scim-bridge demo');
  say(ownRedis ? `  Redis:           ${redisUrl} (redis-server started for the demo, stopped on exit)` : `  Redis:           ${redisUrl} (already running; keys under "${prefix}:", removed on exit)`);
  say(`  simulated Coder: ${sim.url}`);
  say(`  SCIM base URL:   ${scimUrl}`);
  say(`  SCIM token:      ${scimToken}`);
  say(`  admin token:     ${adminToken} (GET ${bridge.origin}/admin/status, /metrics)`);
  say();
  say('Try (create a user, then a group; add members with PATCH /Groups/<id>):');
  for (const command of curlCommands(scimUrl, scimToken)) say(`  ${command}`);
  say();
  say('Watching the simulated Coder. Ctrl-C stops everything.');

  let seen: CoderSnapshot = { users: new Map(), groups: new Map() };
  const watcher = setInterval(() => {
    const now = snapshot(sim.users(), sim.groups(), sim.ownerId);
    for (const line of describeChanges(seen, now)) say(`[coder] ${line}`);
    seen = now;
  }, WATCH_INTERVAL_MS);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('stopping...');
    clearInterval(watcher);
    await bridge.close();
    if (!ownRedis) {
      const redis = new Redis(redisUrl);
      await deleteTestKeys(redis, prefix);
      redis.disconnect();
    }
    await sim.close();
    await ownRedis?.destroy();
    say('stopped');
    process.exit(0);
  };
  const stopOrFail = () =>
    stop().catch((err: unknown) => {
      process.stderr.write(`demo: stopping failed: ${(err as Error).message}\n`);
      process.exit(1);
    });
  process.on('SIGINT', stopOrFail);
  process.on('SIGTERM', stopOrFail);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});

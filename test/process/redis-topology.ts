import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../e2e/harness';
import { pong } from '../e2e/redis-server';
import { waitFor } from '../wait-for';

/**
 * Throwaway Redis topologies on loopback ports, each in its own directory: a 3-master Cluster, and one master
 * watched by one Sentinel. `env` is what the bridge needs to reach it.
 */

export interface RedisTopology {
  env: Record<string, string>;
  /** Keys held by the topology's data nodes: proof the bridge wrote there and not to some default Redis. */
  keyCount(): Promise<number>;
  close(): Promise<void>;
}

const run = promisify(execFile);
const READY_TIMEOUT_MS = 20_000;

function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  return waitFor(condition, READY_TIMEOUT_MS, `${what} to be ready`, 100);
}

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args])).stdout.trim();
}

async function keyCount(ports: number[]): Promise<number> {
  const sizes = await Promise.all(ports.map(async (port) => Number(await cli(port, 'dbsize'))));
  return sizes.reduce((sum, size) => sum + size, 0);
}

function stopAll(children: ChildProcess[], dir: string): Promise<void> {
  return Promise.all(
    children.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
    ),
  ).then(() => rmSync(dir, { recursive: true, force: true }));
}

async function redisServer(args: string[], dir: string, children: ChildProcess[]): Promise<number> {
  const port = await freePort();
  children.push(spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
  await until(`redis-server on ${port}`, () => pong(port));
  return port;
}

export async function startRedisCluster(masters = 3): Promise<RedisTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-redis-cluster-'));
  const children: ChildProcess[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) ports.push(await redisServer(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`], dir, children));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of ports) await until(`cluster node ${port}`, async () => (await cli(port, 'cluster', 'info')).includes('cluster_state:ok'));
    return { env: { REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(',') }, keyCount: () => keyCount(ports), close: () => stopAll(children, dir) };
  } catch (err) {
    await stopAll(children, dir);
    throw err;
  }
}

export async function startRedisSentinel(masterName = 'mymaster'): Promise<RedisTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-redis-sentinel-'));
  const children: ChildProcess[] = [];
  try {
    const master = await redisServer([], dir, children);
    const sentinelConfig = join(dir, 'sentinel.conf');
    // Sentinel rewrites its configuration file, so it must be a writable file of its own.
    writeFileSync(sentinelConfig, `sentinel monitor ${masterName} 127.0.0.1 ${master} 1\n`);
    const sentinel = await redisServer([sentinelConfig, '--sentinel'], dir, children);
    await until('sentinel', async () => (await cli(sentinel, 'sentinel', 'get-master-addr-by-name', masterName)).includes(String(master)));
    return {
      env: { REDIS_SENTINELS: `127.0.0.1:${sentinel}`, REDIS_SENTINEL_NAME: masterName },
      keyCount: () => keyCount([master]),
      close: () => stopAll(children, dir),
    };
  } catch (err) {
    await stopAll(children, dir);
    throw err;
  }
}

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../wait-for';
import { freePort } from './harness';

/**
 * A redis-server of the test's own, with AOF on, on its own port and directory: it can be shut down
 * (`SHUTDOWN` flushes the AOF) and started again on the same port and data, as a Redis restart in production.
 */

export interface OwnRedis {
  url: string;
  port: number;
  /** `redis-cli shutdown`: the AOF is written and the process exits. */
  shutdown(): Promise<void>;
  /** Starts it again on the same port and directory, and waits for PONG. */
  start(): Promise<void>;
  /** Shuts it down and deletes its directory. */
  destroy(): Promise<void>;
}

const run = promisify(execFile);
const START_TIMEOUT_MS = 10_000;

export async function pong(port: number): Promise<boolean> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
    return stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'scim-redis-'));
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--dir', dir, '--save', ''], { stdio: 'ignore' });
    await waitFor(() => pong(port), START_TIMEOUT_MS, `redis-server on port ${port} to answer PING`);
  };

  const shutdown = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const gone = new Promise<void>((done) => running.once('exit', () => done()));
    await run('redis-cli', ['-p', String(port), 'shutdown']).catch(() => undefined);
    await gone;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    shutdown,
    start,
    destroy: async () => {
      await shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

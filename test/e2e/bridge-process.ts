import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { request } from 'undici';
import type { BridgeMode } from '../../src/bridge';
import { freePort, type LaunchedBridge } from './harness';

/**
 * The bridge as a child process (`src/main.ts <mode>` under tsx), for tests that kill it the hard way. The
 * environment fixes PORT, so `restart()` brings it back on the same origin.
 */

export class BridgeProcessError extends Error {
  readonly code = 'bridge_process_failed';
}

export interface BridgeProcess extends LaunchedBridge {
  origin: string;
  pid(): number;
  /** SIGKILL: no graceful shutdown, in-flight requests and reconciles are cut off. */
  kill(): Promise<void>;
  /** Starts it again with the same environment and waits until it is ready (/readyz). */
  restart(): Promise<void>;
  /** SIGTERM, then waits (without a SIGKILL fallback) for the graceful shutdown to end. */
  terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

const ROOT = resolve(__dirname, '..', '..');
const START_TIMEOUT_MS = 30_000;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once('exit', () => done()));
}

/**
 * /readyz, not /healthz: the bridge listens before Redis answers, and a SCIM write sent before it has connected
 * gets a 503. (A worker is ready once its Coder preflight is done too.)
 */
async function waitUntilReady(origin: string, child: ChildProcess): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < START_TIMEOUT_MS) {
    if (child.exitCode !== null) throw new BridgeProcessError(`bridge exited with code ${child.exitCode} while starting`);
    try {
      const reply = await request(`${origin}/readyz`);
      await reply.body.dump();
      if (reply.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new BridgeProcessError(`bridge was not ready (/readyz) within ${START_TIMEOUT_MS} ms`);
}

/** `onOutput` receives the child's stdout and stderr (its pino lines); default: discarded. */
export async function spawnBridge(env: Record<string, string>, onOutput?: (chunk: string) => void, mode: BridgeMode = 'all'): Promise<BridgeProcess> {
  const origin = `http://${env.HOST ?? '127.0.0.1'}:${env.PORT}`;
  let child: ChildProcess;

  const start = async () => {
    child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts', mode], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => onOutput?.(chunk.toString('utf8')));
    await waitUntilReady(origin, child);
  };

  await start();
  return {
    origin,
    pid: () => child.pid ?? -1,
    kill: async () => {
      child.kill('SIGKILL');
      await exited(child);
    },
    restart: start,
    terminate: async () => {
      const started = Date.now();
      const gone = exited(child);
      child.kill('SIGTERM');
      await gone;
      return { code: child.exitCode, signal: child.signalCode, ms: Date.now() - started };
    },
    close: async () => {
      const gone = exited(child);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** One `serve` and `workers` worker processes on the harness's environment (each worker on a port of its own). */
export async function spawnServeAndWorkers(
  env: Record<string, string>,
  workers: number,
  onOutput?: (chunk: string) => void,
): Promise<{ serve: BridgeProcess; workers: BridgeProcess[]; origin: string; close(): Promise<void> }> {
  const ports = await Promise.all(Array.from({ length: workers }, () => freePort()));
  const [serve, ...started] = await Promise.all([
    spawnBridge(env, onOutput, 'serve'),
    ...ports.map((port) => spawnBridge({ ...env, PORT: String(port) }, onOutput, 'worker')),
  ]);
  return { serve, workers: started, origin: serve.origin, close: async () => void (await Promise.all([serve, ...started].map((p) => p.close()))) };
}

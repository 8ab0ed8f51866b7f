import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Benchmark processes: every server and the load generator run as their own Node process (tsx's CommonJS hook,
 * which adds no loader thread to the measured process), talking to the orchestrator over IPC.
 */

export class ChildFailedError extends Error {
  readonly code = 'bench_child_failed';
}

export interface BenchChild {
  process: ChildProcess;
  pid: number;
  send(message: unknown): void;
  /** The next message whose `type` is `type`; rejects when the child exits first. */
  next<T>(type: string): Promise<T>;
  stop(): Promise<void>;
}

export interface ChildOptions {
  env?: Record<string, string>;
  /** Where the child's stdout goes (its log lines): a file path, or discarded. */
  stdoutFile?: string;
  /** Extra node flags, e.g. --cpu-prof when profiling a server. */
  nodeArgs?: string[];
}

export function startChild(script: string, options: ChildOptions = {}): BenchChild {
  const stdout = options.stdoutFile ? openSync(options.stdoutFile, 'a') : 'ignore';
  const child = spawn(process.execPath, ['--expose-gc', ...(options.nodeArgs ?? []), '--require', 'tsx/cjs', resolve(__dirname, script)], {
    cwd: resolve(__dirname, '..'),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', stdout, 'inherit', 'ipc'],
  });
  if (typeof stdout === 'number') closeSync(stdout);
  const exited = new Promise<never>((_resolve, reject) => {
    child.once('exit', (code, signal) => reject(new ChildFailedError(`${script} exited (code ${code}, signal ${signal})`)));
  });
  exited.catch(() => undefined);
  return {
    process: child,
    pid: child.pid ?? -1,
    send: (message) => child.send(message as object),
    next: <T>(type: string) =>
      Promise.race([
        new Promise<T>((resolveMessage) => {
          const listener = (message: { type?: string }) => {
            if (message?.type !== type) return;
            child.off('message', listener);
            resolveMessage(message as T);
          };
          child.on('message', listener);
        }),
        exited,
      ]),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** The child side: announce a message to the orchestrator. */
export function tellParent(message: { type: string } & Record<string, unknown>): void {
  process.send?.(message);
}

/** The child side: an orphaned benchmark server would hold its port and load the machine; leave with the parent. */
export function exitWithParent(): void {
  process.once('disconnect', () => process.exit(0));
}

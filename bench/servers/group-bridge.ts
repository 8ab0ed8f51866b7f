import { performance } from 'node:perf_hooks';
import { startBridge } from '../../src/bridge';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { exitWithParent, tellParent } from '../child';

/**
 * The bridge in `all` mode (SCIM intake and workers in one process, where a blocked event loop hurts most), for
 * `npm run bench:groups`. On a `stats` message it reports its CPU time so far and, since the previous report,
 * the longest event-loop delay and the longest block.
 */

/** Fine enough to see a 50 ms block, coarse enough to cost the bridge no measurable CPU. */
const TICK_MS = 5;

/**
 * A timer that should fire every TICK_MS: how late it fires is the event-loop delay. On a machine shared with
 * other work the OS may also deschedule the process, which stretches the delay but spends no CPU; so the block is
 * the delay capped by the CPU the process spent meanwhile.
 */
class LoopMonitor {
  maxDelayMs = 0;
  maxBlockMs = 0;
  private last = performance.now();
  private lastCpu = process.cpuUsage();

  start(): void {
    const tick = () => {
      const now = performance.now();
      const cpu = process.cpuUsage(this.lastCpu);
      const delayMs = Math.max(0, now - this.last - TICK_MS);
      this.maxDelayMs = Math.max(this.maxDelayMs, delayMs);
      this.maxBlockMs = Math.max(this.maxBlockMs, Math.min(delayMs, (cpu.user + cpu.system) / 1000));
      this.last = now;
      this.lastCpu = process.cpuUsage();
      setTimeout(tick, TICK_MS).unref();
    };
    setTimeout(tick, TICK_MS).unref();
  }

  reset(): void {
    this.maxDelayMs = 0;
    this.maxBlockMs = 0;
  }
}

async function main(): Promise<void> {
  exitWithParent();
  const config = loadConfig(process.env);
  const bridge = await startBridge(config, 'all', createLogger(config.logLevel));
  const loop = new LoopMonitor();
  loop.start();
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'stats') return;
    const { user, system } = process.cpuUsage();
    tellParent({ type: 'stats', cpuMs: (user + system) / 1000, maxDelayMs: loop.maxDelayMs, maxBlockMs: loop.maxBlockMs });
    loop.reset();
  });
  process.once('SIGTERM', () => {
    void bridge.close().then(() => process.exit(0));
  });
  tellParent({ type: 'ready', origin: bridge.origin });
}

void main().catch((err: unknown) => {
  process.stderr.write(`bench group bridge failed: ${String(err)}\n`);
  process.exit(1);
});

import { startBridge } from '../../src/bridge';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { exitWithParent, tellParent } from '../child';

/**
 * The bridge as deployed for HTTP: `serve` mode, configured from the environment the orchestrator passes
 * (its own REDIS_PREFIX, a loopback CODER_URL nothing listens on: serving never calls Coder). Logs go to
 * stdout at LOG_LEVEL, which the orchestrator sends to a file.
 */
async function main(): Promise<void> {
  exitWithParent();
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const bridge = await startBridge(config, 'serve', logger);
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'gc') return;
    // A settled heap for the resident-memory figure: garbage from the load runs is not state.
    global.gc?.();
    tellParent({ type: 'gc-done' });
  });
  process.once('SIGTERM', () => {
    void bridge.close().then(() => process.exit(0));
  });
  tellParent({ type: 'ready', origin: bridge.origin });
}

void main().catch((err: unknown) => {
  process.stderr.write(`bench bridge failed: ${String(err)}\n`);
  process.exit(1);
});

#!/usr/bin/env node
import { startBridge, type BridgeMode } from './bridge';
import { runCheck } from './cli/check';
import { runPolicyCheck } from './cli/policy-check';
import { runResyncCli } from './cli/resync-main';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, exitAfterLogs, type Logger } from './log';

/**
 * `coder-scim-bridge all | serve | worker | resync [--dry-run] [--resource Users/<id>] | check | policy check FILE`
 * Exit codes: 0 success, 1 a check or resync failed, 2 bad usage or configuration.
 */

/** SIGTERM must end the process within Kubernetes' default 30 s grace period. */
const SHUTDOWN_DEADLINE_MS = 25_000;

const USAGE = 'usage: coder-scim-bridge [all|serve|worker|resync [--dry-run] [--resource Users/<id>]|check|policy check FILE]';

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) process.stderr.write(`configuration error: ${problem}\n`);
    process.exit(2);
  }
}

function handleSignals(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'shutdown', signal }, 'shutting down: finishing in-flight requests and reconciles');
    const deadline = setTimeout(() => {
      logger.error({ event: 'shutdown_timeout', deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long: exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    close().then(
      () => {
        logger.info({ event: 'stopped' }, 'stopped');
        exitAfterLogs(logger, 0);
      },
      (err: unknown) => {
        logger.error({ event: 'shutdown_failed', err }, 'shutdown failed');
        exitAfterLogs(logger, 1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** SIGHUP re-reads the access policy; without a listener its default action would kill the process. */
function handleReload(logger: Logger, reload: () => Promise<void>): void {
  process.on('SIGHUP', () => {
    reload().catch((err: unknown) => logger.error({ event: 'access_policy_reload_error', err }, 'SIGHUP reload failed'));
  });
}

async function main(argv: string[]): Promise<number> {
  const [command = 'all', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === 'policy') {
    // Needs no configuration: an operator checks a policy file before deploying it.
    if (rest[0] !== 'check' || rest.length !== 2) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    return runPolicyCheck(rest[1], process.env, (line) => process.stdout.write(`${line}\n`));
  }
  if (!['all', 'serve', 'worker', 'resync', 'check'].includes(command)) {
    process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfigOrExit();
  if (command === 'check') return runCheck(config, (line) => process.stdout.write(`${line}\n`));
  if (command === 'resync') return runResyncCli(config, rest, (line) => process.stdout.write(`${line}\n`));

  const logger = createLogger(config.logLevel);
  process.on('unhandledRejection', (reason) => logger.error({ event: 'unhandled_rejection', err: reason }, 'unhandled promise rejection'));
  // Installed before the bridge starts: a signal while it still waits for Redis stops it cleanly (nothing it
  // acknowledged can be in flight before Redis answers) instead of killing it with the signal's default action.
  let close: () => Promise<void> = async () => undefined;
  let reload: () => Promise<void> = async () => logger.info({ event: 'access_policy_reload_skipped', trigger: 'sighup' }, 'SIGHUP while starting: the worker reads the policy file when it starts');
  handleSignals(logger, () => close());
  handleReload(logger, () => reload());
  const bridge = await startBridge(config, command as BridgeMode, logger);
  close = bridge.close;
  reload = bridge.reloadPolicy;
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`coder-scim-bridge: ${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  },
);

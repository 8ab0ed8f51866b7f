import { stat } from 'node:fs/promises';
import { ConfigError, type Config } from '../config';
import type { Logger } from '../log';

/**
 * Re-reads the token files (CODER_SESSION_TOKEN_FILE, SCIM_BEARER_TOKEN_FILE, ADMIN_TOKEN_FILE) when they change,
 * so a rotated Kubernetes Secret takes effect without a restart. Kubernetes swaps a mounted Secret by moving a
 * symlink, which inotify on the file itself does not see: the files are polled with stat(), which follows it.
 * The whole configuration is loaded again, so a new token passes the same validation as at start; a bad one
 * is reported and the tokens in use stay.
 */

export interface SecretFilesOptions {
  /** The configuration in use: what a reload is compared with. */
  initial: Config;
  files: readonly string[];
  reload: () => Config;
  /** Called with the reloaded configuration when a token changed: the caller swaps the tokens it uses. */
  apply: (config: Config) => void;
  logger: Logger;
  /** How often each file is stat()ed. */
  intervalMs?: number;
}

export const SECRET_POLL_MS = 5_000;

/** Which tokens a configuration holds: a reload that changes none of them applies nothing. */
function tokensOf(config: Config): string {
  return JSON.stringify([config.coder.token, config.scim.tokens, config.adminToken ?? null]);
}

async function stamp(file: string): Promise<string> {
  try {
    const { ino, mtimeMs, size } = await stat(file);
    return `${ino}:${mtimeMs}:${size}`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unreadable';
  }
}

/** Returns the function that stops watching. */
export function watchSecretFiles(options: SecretFilesOptions): () => void {
  const { files, logger } = options;
  if (files.length === 0) return () => undefined;
  let current = tokensOf(options.initial);
  // No stamps yet: the first poll reloads once, which catches a change between the start's read and the first stat.
  let stamps: string[] | undefined;
  let polling = false;

  const reload = () => {
    let config: Config;
    try {
      config = options.reload();
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      logger.error({ event: 'secrets_reload_failed', problems }, 'a token file changed but cannot be used: the tokens in use stay');
      return;
    }
    if (tokensOf(config) === current) return;
    current = tokensOf(config);
    options.apply(config);
    logger.info({ event: 'secrets_reloaded', files }, 'token files re-read: the new tokens are in use');
  };

  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      const next = await Promise.all(files.map(stamp));
      if (!stamps || next.some((value, i) => value !== stamps![i])) reload();
      stamps = next;
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), options.intervalMs ?? SECRET_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

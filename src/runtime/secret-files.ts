import { unwatchFile, watchFile, type Stats } from 'node:fs';
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
  files: readonly string[];
  reload: () => Config;
  /** Called with the reloaded configuration: the caller swaps the tokens it uses. */
  apply: (config: Config) => void;
  logger: Logger;
  /** How often each file is stat()ed. */
  intervalMs?: number;
}

export const SECRET_POLL_MS = 5_000;

function changed(current: Stats, previous: Stats): boolean {
  return current.mtimeMs !== previous.mtimeMs || current.ino !== previous.ino || current.size !== previous.size;
}

/** Returns the function that stops watching. */
export function watchSecretFiles(options: SecretFilesOptions): () => void {
  const { files, logger } = options;
  const reload = () => {
    let config: Config;
    try {
      config = options.reload();
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      logger.error({ event: 'secrets_reload_failed', problems }, 'a token file changed but cannot be used: the tokens in use stay');
      return;
    }
    options.apply(config);
    logger.info({ event: 'secrets_reloaded', files }, 'token files re-read');
  };
  const listener = (current: Stats, previous: Stats) => {
    if (changed(current, previous)) reload();
  };
  const interval = options.intervalMs ?? SECRET_POLL_MS;
  for (const file of files) watchFile(file, { interval, persistent: false }, listener);
  return () => {
    for (const file of files) unwatchFile(file, listener);
  };
}

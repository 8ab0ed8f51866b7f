import { ConfigError, type Config } from '../config';
import type { Logger } from '../log';
import { watchFiles } from './file-watch';

/**
 * Re-reads the token files (CODER_SESSION_TOKEN_FILE, SCIM_BEARER_TOKEN_FILE, ADMIN_TOKEN_FILE) when they change,
 * so a rotated Kubernetes Secret takes effect without a restart. Kubernetes swaps a mounted Secret by moving a
 * symlink, which inotify on the file itself does not see: the files are polled (file-watch.ts).
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

/** Returns the function that stops watching. */
export function watchSecretFiles(options: SecretFilesOptions): () => void {
  const { files, logger } = options;
  let current = tokensOf(options.initial);

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

  return watchFiles({ files, onChange: reload, intervalMs: options.intervalMs ?? SECRET_POLL_MS });
}

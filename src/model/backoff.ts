/** Exponential backoff with full jitter: spreads retries of many workers instead of synchronising them. */

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/**
 * Delay before retry number `attempt` (0 for the first retry): uniform in [0, min(cap, base * 2^attempt)).
 * `random` returns a number in [0, 1), injectable so callers and tests are deterministic.
 */
export function backoffDelay(attempt: number, { baseMs, capMs }: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

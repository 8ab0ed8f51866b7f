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

/**
 * Retry-After header (delay-seconds or an HTTP-date) -> milliseconds from `nowMs`; undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

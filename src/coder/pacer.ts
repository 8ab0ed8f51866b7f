/**
 * Keeps calls under Coder's API rate limit instead of running into it. Coder counts requests per (token user,
 * request path) in a sliding one-minute window and answers 429 with `Retry-After: 60` past the limit, so a
 * client that only reacts to 429s loses a minute after every burst and gets well under half the limit. Pacing
 * each path at a steady rate just below the limit keeps Coder's sliding estimate below it: at a constant rate r
 * the estimate is r, and a burst allowance b adds at most b, so r + b < limit never trips it.
 *
 * Written by hand: it is GCRA (a virtual scheduling token bucket) keyed by path, a dozen lines; the rate-limit
 * libraries on npm either throttle inbound requests or queue per key without a way to wait for a slot.
 */

const WINDOW_MS = 60_000;
/** The paced rate and burst, as shares of the limit: 0.93 + 0.04 leaves 3% for clock skew and other clients. */
const RATE_SHARE = 0.93;
const BURST_SHARE = 0.04;
/** Idle paths are forgotten after a window, so one entry per user path does not accumulate. */
const SWEEP_EVERY = 1_000;

export interface PacerOptions {
  /** Coder's limit per path and minute (CODER_API_RATE_LIMIT, 512 by default). */
  limitPerMinute: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class PathPacer {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** path -> theoretical arrival time of the next request (GCRA's TAT). */
  private readonly nextArrival = new Map<string, number>();
  private calls = 0;

  constructor(options: PacerOptions) {
    this.intervalMs = WINDOW_MS / (options.limitPerMinute * RATE_SHARE);
    this.toleranceMs = Math.max(0, Math.floor(options.limitPerMinute * BURST_SHARE) - 1) * this.intervalMs;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Resolves when a request to `path` may be sent; concurrent callers are given successive slots. */
  async acquire(path: string): Promise<void> {
    const now = this.now();
    const arrival = Math.max(this.nextArrival.get(path) ?? now, now);
    const allowedAt = arrival - this.toleranceMs;
    this.nextArrival.set(path, arrival + this.intervalMs);
    if (++this.calls % SWEEP_EVERY === 0) this.forgetIdle(now);
    if (allowedAt > now) await this.sleep(allowedAt - now);
  }

  private forgetIdle(now: number): void {
    for (const [path, arrival] of this.nextArrival) if (arrival < now) this.nextArrival.delete(path);
  }
}

/**
 * go-chi/httprate sliding-window limiter as Coder configures it (coderd/httpmw/ratelimit.go):
 * window 1 minute aligned to wall-clock minutes; rate = prev*(window-elapsed)/window + curr;
 * limited when round(rate)+1 > limit. Keys are (user id or IP) + path.
 */
import { ApiResult, err } from './errors';

/** Coder's window. Tests may shorten it to wait out a 429 in seconds; Retry-After and the message follow it. */
export const CODER_RATE_WINDOW_MS = 60_000;

interface Counter {
  window: number; // start of the window `curr` belongs to
  curr: number;
  prev: number; // count of window - WINDOW_MS
}

export interface RateDecision {
  headers: Record<string, string>;
  /** Set when the request is refused (429). */
  limited?: ApiResult;
}

export class RateLimiter {
  private counters = new Map<string, Counter>();
  private lastSweep = 0;

  constructor(
    private now: () => number = Date.now,
    private readonly windowMs: number = CODER_RATE_WINDOW_MS,
  ) {}

  reset(): void {
    this.counters.clear();
  }

  check(key: string, limit: number): RateDecision {
    const now = this.now();
    const currentWindow = now - (now % this.windowMs);
    this.sweep(currentWindow);
    let c = this.counters.get(key);
    if (!c) {
      c = { window: currentWindow, curr: 0, prev: 0 };
      this.counters.set(key, c);
    } else if (c.window !== currentWindow) {
      c.prev = c.window === currentWindow - this.windowMs ? c.curr : 0;
      c.curr = 0;
      c.window = currentWindow;
    }
    const elapsed = now - currentWindow;
    const rate = Math.round((c.prev * (this.windowMs - elapsed)) / this.windowMs + c.curr);
    const headers: Record<string, string> = {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Reset': String(Math.floor((currentWindow + this.windowMs) / 1000)),
    };
    if (rate + 1 > limit) {
      headers['X-RateLimit-Remaining'] = String(limit - rate);
      headers['Retry-After'] = String(Math.ceil(this.windowMs / 1000));
      return {
        headers,
        limited: err(429, `You've been rate limited for sending more than ${limit} requests in ${goDuration(this.windowMs)}.`),
      };
    }
    c.curr++;
    headers['X-RateLimit-Remaining'] = String(limit - rate - 1);
    return { headers };
  }

  /** Drop counters two windows old, at most once per window. */
  private sweep(currentWindow: number): void {
    if (this.lastSweep === currentWindow) return;
    this.lastSweep = currentWindow;
    for (const [k, c] of this.counters) if (c.window < currentWindow - this.windowMs) this.counters.delete(k);
  }
}

/** A window as Go prints a time.Duration of whole seconds ("1m0s", "5s"), as httprate's message does. */
function goDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds}s`;
}

/**
 * Counts failed authentications per client address in fixed windows, so a token cannot be guessed by brute
 * force. Once an address reaches the limit, every request from it is refused until its window ends: answering a
 * correct token normally while refusing wrong ones would still tell a guesser which token was right.
 */
export interface AuthLimit {
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_AUTH_LIMIT: AuthLimit = { maxFailures: 20, windowMs: 60_000 };

/** Bounds the memory an address-spraying client can take before expired windows are swept. */
const SWEEP_THRESHOLD = 10_000;

interface Window {
  startedAt: number;
  failures: number;
}

export class FailedAuthLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: AuthLimit = DEFAULT_AUTH_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whole seconds until `address` may try again; 0 when it is not blocked. */
  retryAfterSeconds(address: string): number {
    const window = this.currentWindow(address);
    if (!window || window.failures < this.limit.maxFailures) return 0;
    return Math.max(1, Math.ceil((window.startedAt + this.limit.windowMs - this.now()) / 1000));
  }

  recordFailure(address: string): void {
    let window = this.currentWindow(address);
    if (!window) {
      if (this.windows.size >= SWEEP_THRESHOLD) this.sweep();
      window = { startedAt: this.now(), failures: 0 };
      this.windows.set(address, window);
    }
    window.failures += 1;
  }

  private currentWindow(address: string): Window | undefined {
    const window = this.windows.get(address);
    if (window && this.now() - window.startedAt >= this.limit.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  private sweep(): void {
    const now = this.now();
    for (const [address, window] of this.windows) {
      if (now - window.startedAt >= this.limit.windowMs) this.windows.delete(address);
    }
  }
}

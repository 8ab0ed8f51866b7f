import { clientKey } from './client-key';

/**
 * Counts failed authentications per client (an address; an IPv6 /64) in fixed windows. A client past the limit
 * has its failed attempts answered 429 with Retry-After; a request with a valid token is never refused here
 * (see bearerAuth), so a flood of bad tokens from the IdP's address, or from behind the same ingress, cannot
 * lock the IdP out. Guessing is defeated by the token rules (32+ characters), not by this counter.
 */
export interface AuthLimit {
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_AUTH_LIMIT: AuthLimit = { maxFailures: 20, windowMs: 60_000 };

/** Clients tracked at once: an address-spraying client evicts the oldest windows instead of growing the map. */
export const MAX_TRACKED_CLIENTS = 10_000;

interface Window {
  startedAt: number;
  failures: number;
}

export class FailedAuthLimiter {
  /** Insertion order is window start order (a new window is a fresh insert), so the oldest is always first. */
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: AuthLimit = DEFAULT_AUTH_LIMIT,
    private readonly now: () => number = Date.now,
    private readonly capacity: number = MAX_TRACKED_CLIENTS,
  ) {}

  /** Whole seconds until the client at `address` may fail again unrefused; 0 when it is under the limit. */
  retryAfterSeconds(address: string | undefined): number {
    const window = this.currentWindow(clientKey(address));
    if (!window || window.failures < this.limit.maxFailures) return 0;
    return Math.max(1, Math.ceil((window.startedAt + this.limit.windowMs - this.now()) / 1000));
  }

  recordFailure(address: string | undefined): void {
    const key = clientKey(address);
    let window = this.currentWindow(key);
    if (!window) {
      this.makeRoom();
      window = { startedAt: this.now(), failures: 0 };
      this.windows.set(key, window);
    }
    window.failures += 1;
  }

  /** Clients currently tracked (for tests of the memory bound). */
  get size(): number {
    return this.windows.size;
  }

  private currentWindow(key: string): Window | undefined {
    const window = this.windows.get(key);
    if (window && this.expired(window)) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private expired(window: Window): boolean {
    return this.now() - window.startedAt >= this.limit.windowMs;
  }

  /** Drops expired windows from the front, then the oldest live one if the map is still full. */
  private makeRoom(): void {
    for (const [key, window] of this.windows) {
      if (this.windows.size < this.capacity && !this.expired(window)) return;
      this.windows.delete(key);
    }
  }
}

import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { ScimError } from '../scim/errors';
import { MAX_CONCURRENT_SCANS, MAX_SCANS_PER_TOKEN } from '../scim/limits';

/** What a client told to wait for a scan slot should wait: a scan of 10,000 users takes about a second. */
export const SCAN_RETRY_AFTER_SECONDS = 2;

export class TooManyScans extends ScimError {
  constructor() {
    // No scimType: RFC 7644's "tooMany" is a 400 about result sizes, not a rate limit.
    super(
      429,
      `This token already runs ${MAX_SCANS_PER_TOKEN} filters that no index answers; retry in ${SCAN_RETRY_AFTER_SECONDS} s, ` +
        'or filter with eq on id, externalId, userName, emails or displayName, or with sw on userName',
    );
  }
}

/**
 * Bounds the filters that must read every resource (`userName co "x"`): per SCIM token, a scan beyond
 * MAX_SCANS_PER_TOKEN is refused, so one client cannot occupy the process; and at most MAX_CONCURRENT_SCANS
 * run at once (the others wait their turn), so that the batches of many scans do not queue ahead of every
 * indexed lookup and /healthz. One process has one event loop: more scans at once would not finish sooner.
 */
export class ScanGate {
  private readonly admitted = new Map<string, number>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly perToken = MAX_SCANS_PER_TOKEN,
    private readonly atOnce = MAX_CONCURRENT_SCANS,
  ) {}

  async run<T>(holder: string, scan: () => Promise<T>): Promise<T> {
    const count = this.admitted.get(holder) ?? 0;
    if (count >= this.perToken) throw new TooManyScans();
    this.admitted.set(holder, count + 1);
    try {
      if (this.running >= this.atOnce) await new Promise<void>((turn) => this.waiting.push(turn));
      else this.running += 1;
      try {
        return await scan();
      } finally {
        // The slot passes to the next waiter as it is; with none, it is freed.
        const next = this.waiting.shift();
        if (next) next();
        else this.running -= 1;
      }
    } finally {
      const left = (this.admitted.get(holder) ?? 1) - 1;
      if (left === 0) this.admitted.delete(holder);
      else this.admitted.set(holder, left);
    }
  }
}

/** The authenticated token a request came with, as a digest: the gate keys on it without keeping the secret. */
export function tokenHolder(req: Request): string {
  return createHash('sha256').update(req.headers.authorization ?? '').digest('base64url');
}

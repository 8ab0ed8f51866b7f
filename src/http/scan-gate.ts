import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { ScimError } from '../scim/errors';
import { MAX_SCANS_PER_TOKEN } from '../scim/limits';

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
 * Bounds the filters that must read every resource (`userName co "x"`) per SCIM token: one client cannot
 * occupy the process with scans, and the others (and its own indexed lookups) keep their latency.
 */
export class ScanGate {
  private readonly running = new Map<string, number>();

  constructor(private readonly perToken = MAX_SCANS_PER_TOKEN) {}

  async run<T>(holder: string, scan: () => Promise<T>): Promise<T> {
    const count = this.running.get(holder) ?? 0;
    if (count >= this.perToken) throw new TooManyScans();
    this.running.set(holder, count + 1);
    try {
      return await scan();
    } finally {
      const left = (this.running.get(holder) ?? 1) - 1;
      if (left === 0) this.running.delete(holder);
      else this.running.set(holder, left);
    }
  }
}

/** The authenticated token a request came with, as a digest: the gate keys on it without keeping the secret. */
export function tokenHolder(req: Request): string {
  return createHash('sha256').update(req.headers.authorization ?? '').digest('base64url');
}

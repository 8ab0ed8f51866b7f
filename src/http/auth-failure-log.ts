import type { Logger } from '../log';
import { clientKey } from './client-key';

/** How long failures are gathered into one summary line after the first of a burst is logged. */
export const AUTH_FAILURE_SUMMARY_MS = 60_000;
/** Clients named in a summary (the busiest); the rest are only counted. */
const CLIENTS_NAMED = 5;
/** Distinct clients counted per summary: beyond it, a spraying client costs no more memory. */
const CLIENTS_COUNTED = 1_000;

export interface AuthFailure {
  /** The protected surface ("scim", "admin"). */
  scope: string;
  reason: string;
  address: string | undefined;
  requestId?: string;
}

interface Batch {
  failures: number;
  byReason: Record<string, number>;
  byScope: Record<string, number>;
  byClient: Map<string, number>;
}

/**
 * Failed authentications, logged without flooding the log: the first failure of a burst is logged at once
 * (an operator sees it when it starts), the rest of the burst as one summary line when the period ends.
 * No presented token is ever logged.
 */
export class AuthFailureLog {
  private batch: Batch | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly periodMs: number = AUTH_FAILURE_SUMMARY_MS,
  ) {}

  record(failure: AuthFailure): void {
    const client = clientKey(failure.address);
    if (!this.batch) {
      this.logger.warn(
        { event: 'auth_failed', scope: failure.scope, reason: failure.reason, client, requestId: failure.requestId },
        'authentication failed (further failures are summarised)',
      );
      this.batch = { failures: 0, byReason: {}, byScope: {}, byClient: new Map() };
      setTimeout(() => this.flush(), this.periodMs).unref();
      return;
    }
    const batch = this.batch;
    batch.failures += 1;
    batch.byReason[failure.reason] = (batch.byReason[failure.reason] ?? 0) + 1;
    batch.byScope[failure.scope] = (batch.byScope[failure.scope] ?? 0) + 1;
    const seen = batch.byClient.get(client);
    if (seen !== undefined || batch.byClient.size < CLIENTS_COUNTED) batch.byClient.set(client, (seen ?? 0) + 1);
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch || batch.failures === 0) return;
    const busiest = [...batch.byClient].sort((a, b) => b[1] - a[1]).slice(0, CLIENTS_NAMED);
    this.logger.warn(
      {
        event: 'auth_failed_summary',
        failures: batch.failures,
        periodMs: this.periodMs,
        byReason: batch.byReason,
        byScope: batch.byScope,
        clients: batch.byClient.size,
        busiest: Object.fromEntries(busiest),
      },
      `${batch.failures} more failed authentications`,
    );
  }
}

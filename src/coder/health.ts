import { CoderApiError, isCoderAuthFailure } from './errors';
import type { CallInfo } from './transport';
import type { CoderHealthSnapshot } from '../model/sync';
import { errorMessage } from '../log-errors';

/**
 * What this process knows of Coder: whether it answers (`coder_up`) and whether it accepts the bridge's token
 * (`coder_auth_failing`). Learnt from the calls the process makes anyway; a background probe asks only when no
 * call told it anything for a while, so no request (a readiness probe, a scrape) ever costs Coder a call.
 */

export interface CoderHealthOptions {
  /** An authenticated call that proves the token (GET /api/v2/users/me). */
  probe: () => Promise<unknown>;
  /** Probe when no call has been seen for this long. */
  idleProbeMs: number;
  onChange?: (snapshot: CoderHealthSnapshot) => void;
  now?: () => number;
}

/** 'token': Coder refuses the token itself (401); 'privilege': it refuses what the token may do (403). */
type AuthFailure = 'token' | 'privilege';

export class CoderHealth {
  private state: CoderHealthSnapshot = { authFailing: false };

  private authFailure?: AuthFailure;

  private lastSeenAt = 0;

  private timer?: NodeJS.Timeout;

  private probing?: Promise<void>;

  private readonly now: () => number;

  constructor(private readonly options: CoderHealthOptions) {
    this.now = options.now ?? Date.now;
  }

  snapshot(): CoderHealthSnapshot {
    return { ...this.state };
  }

  /** Feed every Coder call here (the transport's onCall). */
  observe(call: Pick<CallInfo, 'method' | 'status'>): void {
    this.lastSeenAt = this.now();
    if (call.status === 0 || call.status >= 500) {
      this.update({ up: false });
      return;
    }
    // A 401 always means the token; a 403 only sometimes, so it arrives through failed(), which can tell.
    if (call.status === 401) this.authFailure = 'token';
    // A read proves the token, not the privilege to write: only a successful write clears a refused privilege.
    else if (call.status < 300 && (this.authFailure === 'token' || call.method !== 'GET')) this.authFailure = undefined;
    this.update({ up: true, lastAnswerAt: this.lastSeenAt });
  }

  /** A call failed: keeps its message, and marks the credentials failing when that is what it says. */
  failed(err: unknown): void {
    if (isCoderAuthFailure(err) && this.authFailure === undefined) this.authFailure = (err as { status: number }).status === 401 ? 'token' : 'privilege';
    this.update({ lastError: describe(err) });
  }

  /** The snapshot, probing first (one shared call) when nothing was heard from Coder for `maxAgeMs`. */
  async current(maxAgeMs: number): Promise<CoderHealthSnapshot> {
    if (this.now() - this.lastSeenAt > maxAgeMs) await this.probe();
    return this.snapshot();
  }

  /** Probes now unless a probe is already in flight (concurrent callers share it). */
  probe(): Promise<void> {
    this.probing ??= this.options
      .probe()
      .then(
        () => undefined,
        (err: unknown) => this.failed(err),
      )
      .finally(() => {
        this.probing = undefined;
      });
    return this.probing;
  }

  /** Starts the background probe: it runs only when the process made no Coder call for `idleProbeMs`. */
  start(): void {
    if (this.timer) return;
    void this.probe();
    this.timer = setInterval(() => {
      if (this.now() - this.lastSeenAt >= this.options.idleProbeMs) void this.probe();
    }, this.options.idleProbeMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private update(change: Partial<CoderHealthSnapshot>): void {
    const before = this.state;
    this.state = { ...before, ...change, authFailing: this.authFailure !== undefined };
    if (before.up !== this.state.up || before.authFailing !== this.state.authFailing) this.options.onChange?.(this.snapshot());
  }
}

/** `GET /api/v2/users/me: 401 You are signed out...`: a network error's message already names its route. */
function describe(err: unknown): string {
  if (err instanceof CoderApiError) return `${err.route}: ${err.status} ${err.message}`;
  return errorMessage(err);
}

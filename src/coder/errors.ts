import type { ValidationError } from './types';

/** `route` is the templated route ('PATCH /api/v2/groups/{group}'), so no error names a user or carries a secret. */
export interface CallSite {
  method: string;
  route: string;
}

export interface CoderApiErrorFields extends CallSite {
  status: number;
  message: string;
  detail?: string;
  validations?: ValidationError[];
  retryAfterMs?: number;
}

/** Coder answered with a non-success status. `message` is Coder's own message, verbatim, so callers can match on it. */
export class CoderApiError extends Error {
  readonly code = 'coder_http';
  readonly status: number;
  readonly detail?: string;
  readonly validations?: ValidationError[];
  readonly method: string;
  readonly route: string;
  /** Only on 429: how long Coder asks us to wait before the next call. */
  readonly retryAfterMs?: number;

  constructor(fields: CoderApiErrorFields) {
    super(fields.message);
    this.name = 'CoderApiError';
    this.status = fields.status;
    this.detail = fields.detail;
    this.validations = fields.validations;
    this.method = fields.method;
    this.route = fields.route;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

/** No HTTP answer at all: connection refused or reset, DNS failure, or the call timed out. */
export class CoderNetworkError extends Error {
  readonly code = 'coder_network';
  readonly method: string;
  readonly route: string;
  readonly timedOut: boolean;

  constructor(site: CallSite, reason: string, timedOut: boolean, options?: { cause?: unknown }) {
    super(`${site.method} ${site.route}: ${reason}`, options);
    this.name = 'CoderNetworkError';
    this.method = site.method;
    this.route = site.route;
    this.timedOut = timedOut;
  }
}

/** Worth trying again later: nothing about the request itself was wrong. */
export function isTransient(err: unknown): boolean {
  if (err instanceof CoderNetworkError) return true;
  return err instanceof CoderApiError && (err.status >= 500 || err.status === 429);
}

export function isRateLimited(err: unknown): err is CoderApiError {
  return err instanceof CoderApiError && err.status === 429;
}

/** Coder answers an unknown `{user}` path parameter with 400, not 404 (httpmw/userparam.go). */
const UNKNOWN_USER_MESSAGE = 'must be an existing uuid or username';

/** The resource addressed by the path does not exist (or is not visible to the token, which Coder does not distinguish). */
export function isNotFound(err: unknown): err is CoderApiError {
  if (!(err instanceof CoderApiError)) return false;
  return err.status === 404 || (err.status === 400 && err.message.includes(UNKNOWN_USER_MESSAGE));
}

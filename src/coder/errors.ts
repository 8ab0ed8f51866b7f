import type { ValidationError } from './types';

/**
 * `route` is the templated route with its method ('PATCH /api/v2/groups/{group}'), so no error names a user or
 * carries a secret, and a message built from it names the method once.
 */
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
    super(`${site.route}: ${reason}`, options);
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

/** No answer from Coder at all, or its proxy saying Coder is not there (502, 503, 504): Coder is down, not the request. */
export function isUnreachable(err: unknown): boolean {
  return err instanceof CoderNetworkError || (err instanceof CoderApiError && (err.status === 502 || err.status === 503 || err.status === 504));
}

export function isRateLimited(err: unknown): err is CoderApiError {
  return err instanceof CoderApiError && err.status === 429;
}

/** Coder's canned RBAC refusal (httpapi.Forbidden) and the user-creation one (coder-api.md §1.4, §2). */
const PRIVILEGE_MESSAGES = new Set(['Forbidden.', 'You are not authorized to create users.']);

/**
 * The bridge's own credentials fail: a 401 (expired, revoked or unknown token, suspended token owner) or a 403
 * that refuses the token's privileges. Not a fault of the resource being reconciled: the worker pauses until the
 * token works. Other 403s ("You cannot delete yourself!", a Premium feature) are about one request and stay so.
 */
export function isCoderAuthFailure(err: unknown): boolean {
  if (!(err instanceof CoderApiError)) return false;
  return err.status === 401 || (err.status === 403 && PRIVILEGE_MESSAGES.has(err.message));
}

/** Coder answers an unknown `{user}` path parameter with 400, not 404 (httpmw/userparam.go). */
const UNKNOWN_USER_MESSAGE = 'must be an existing uuid or username';

/** The resource addressed by the path does not exist (or is not visible to the token, which Coder does not distinguish). */
export function isNotFound(err: unknown): err is CoderApiError {
  if (!(err instanceof CoderApiError)) return false;
  return err.status === 404 || (err.status === 400 && err.message.includes(UNKNOWN_USER_MESSAGE));
}

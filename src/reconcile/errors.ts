import { CoderApiError, CoderNetworkError, isCoderAuthFailure, isRateLimited, isTransient } from '../coder/errors';
import type { SyncError } from '../model/sync';
import { MappingError } from './mapping';
import { errorMessage } from '../log-errors';

export type ReconcileErrorCode =
  /** The desired resource cannot be expressed in Coder (e.g. a user without an e-mail). */
  | 'unappliable'
  /** Groups need Coder's template_rbac feature (a Premium licence). */
  | 'unlicensed'
  /** A Coder user or group already belongs to another SCIM resource and no free name was found. */
  | 'conflict'
  /** Coder kept disagreeing with every re-read: retried later with backoff. */
  | 'not_converging';

/** A reconcile failure of our own making; `permanent` ones are recorded and not retried for the same version. */
export class ReconcileError extends Error {
  constructor(
    readonly code: ReconcileErrorCode,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'ReconcileError';
  }
}

/**
 * How a failure is recorded on the sync status. Retrying cannot fix a permanent one (a 4xx other than 429,
 * an unappliable resource), so the job completes; anything else is rethrown for BullMQ to retry.
 */
export function syncErrorOf(err: unknown, version: number, at: number): SyncError {
  if (err instanceof ReconcileError) return { code: err.code, message: err.message, permanent: err.permanent, at, version };
  if (err instanceof MappingError) return { code: 'unappliable', message: err.message, permanent: true, at, version };
  if (err instanceof CoderApiError) {
    const message = `${err.route}: ${err.status} ${err.message}${err.detail ? ` (${err.detail})` : ''}`;
    // The bridge's credentials failing says nothing about this resource: the worker pauses and it runs again.
    if (isCoderAuthFailure(err)) return { code: 'coder_auth', message, coderStatus: err.status, permanent: false, at, version };
    return { code: 'coder_http', message, coderStatus: err.status, permanent: !isTransient(err), at, version };
  }
  if (err instanceof CoderNetworkError) return { code: 'network', message: err.message, permanent: false, at, version };
  const message = errorMessage(err);
  return { code: 'internal', message, permanent: false, at, version };
}

/** Why a reconcile runs again later. */
export type RequeueReason =
  /** Something transient (Coder unreachable, a 5xx, Redis): again after the reconcile backoff. */
  | 'retry'
  /** Coder's 429: the whole queue waits for Retry-After. */
  | 'rate_limited'
  /** Coder refuses the bridge's token (401) or its privileges (403): the whole queue waits until it works. */
  | 'coder_auth';

/** Why a reconcile that threw must run again, for the queue's outcome contract (queue/reconcile-outcome.ts). */
export function requeueCauseOf(error: unknown): { reason: RequeueReason; delayMs?: number } {
  if (isRateLimited(error)) return { reason: 'rate_limited', delayMs: error.retryAfterMs };
  if (isCoderAuthFailure(error)) return { reason: 'coder_auth' };
  return { reason: 'retry' };
}

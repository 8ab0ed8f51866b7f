import { CoderApiError, CoderNetworkError, isCoderAuthFailure, isRateLimited, isTransient, isUnreachable } from '../coder/errors';
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
  | 'not_converging'
  /** Coder's own IdP sync (role or organization sync) owns what the access policy grants: a Coder setting must change. */
  | 'idp_sync';

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

/** The access-policy calls whose refusals name a Coder setting (see accessRefusal). */
export type AccessCall = { call: 'siteRoles' } | { call: 'orgRoles' | 'orgMember'; organization: string };

const ROLE_SYNC_ON = 'Cannot modify roles for OIDC users when role sync is enabled.';
const ORG_SYNC_ON = 'Organization sync is enabled for OIDC users';
/** "You cannot change your own roles." and "... own organization roles.": the user is the token's own. */
const OWN_ROLES = 'You cannot change your own';

/**
 * Coder's 400s that no retry fixes, because a Coder setting or the bridge's token decides: a permanent failure whose
 * message says what to change. Undefined for any other error (recorded as usual by syncErrorOf).
 */
export function accessRefusal(err: unknown, call: AccessCall, username: string): ReconcileError | undefined {
  if (!(err instanceof CoderApiError) || err.status !== 400) return undefined;
  if (err.message.startsWith(OWN_ROLES)) {
    return new ReconcileError(
      'conflict',
      `Coder user ${username} is the bridge's own token user (CODER_SESSION_TOKEN), and Coder lets no user change its own roles: the bridge never changes it; give the bridge a token of another owner to manage ${username}`,
      true,
    );
  }
  if (call.call === 'siteRoles' && err.message.startsWith(ROLE_SYNC_ON)) {
    return new ReconcileError(
      'idp_sync',
      `Coder refused the site roles of OIDC user ${username}: Coder's site role sync is on (OIDC 'User Role Field', CODER_OIDC_USER_ROLE_FIELD). Unset it in Coder's deployment settings to let the access policy grant site roles, or remove the site roles from ACCESS_POLICY_FILE`,
      true,
    );
  }
  if (call.call === 'orgRoles' && err.message.startsWith(ROLE_SYNC_ON)) {
    return new ReconcileError(
      'idp_sync',
      `Coder refused the roles of OIDC user ${username} in organization ${call.organization}: the organization's IdP role sync is on (its 'role sync field', PATCH /api/v2/organizations/${call.organization}/settings/idpsync/roles). Clear that field to let the access policy grant organization roles there, or remove them from ACCESS_POLICY_FILE`,
      true,
    );
  }
  if (call.call === 'orgMember' && err.message.startsWith(ORG_SYNC_ON)) {
    return new ReconcileError(
      'idp_sync',
      `Coder refused to add OIDC user ${username} to organization ${call.organization}: Coder's organization sync is on (Deployment > IdP organization sync field, PATCH /api/v2/settings/idpsync/organization). Clear that field to let the access policy place users in organizations, or remove the organization from ACCESS_POLICY_FILE`,
      true,
    );
  }
  return undefined;
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
export function requeueCauseOf(error: unknown): { reason: RequeueReason; delayMs?: number; unreachable?: boolean } {
  if (isRateLimited(error)) return { reason: 'rate_limited', delayMs: error.retryAfterMs };
  if (isCoderAuthFailure(error)) return { reason: 'coder_auth' };
  // Coder not answering at all: the queue may pause for everyone rather than each job backing off alone.
  return isUnreachable(error) ? { reason: 'retry', unreachable: true } : { reason: 'retry' };
}

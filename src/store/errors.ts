import { StoreError } from './types';

/** Redis replies that mean "not now" rather than "wrong": the server is loading, failing over or full. */
const UNAVAILABLE_REPLIES = /^(LOADING|READONLY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|BUSY|NOREPLICAS|OOM)\b/;

/**
 * Connection failures (refused, closed, offline queue disabled, command timeout, retries exhausted) and
 * transient server states become StoreError('unavailable'), which the HTTP layer answers with 503. Any
 * other Redis reply error (a script bug, a wrong type) is a defect and propagates unchanged.
 */
export function toStoreError(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  if (err instanceof MutationFailure) return err.original;
  if (!(err instanceof Error)) return err;
  const isReply = err.name === 'ReplyError';
  if (isReply && !UNAVAILABLE_REPLIES.test(err.message)) return err;
  return new StoreError('unavailable', `redis unavailable: ${err.message}`);
}

/** Runs a Redis operation, translating its failure with `toStoreError`. */
export async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw toStoreError(err);
  }
}

/** Carries an error thrown by a caller's mutation through `guarded`: it is the caller's, not Redis's. */
class MutationFailure extends Error {
  constructor(readonly original: unknown) {
    super('mutation failed');
  }
}

/**
 * Wraps a caller-supplied mutation so that what it throws (a SCIM validation error, say) reaches the caller
 * unchanged instead of being mistaken for a Redis failure.
 */
export function callerMutation<A extends unknown[], R>(mutate: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    try {
      return mutate(...args);
    } catch (err) {
      throw new MutationFailure(err);
    }
  };
}

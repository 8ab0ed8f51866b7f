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

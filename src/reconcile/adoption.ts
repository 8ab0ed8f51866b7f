import { CoderApiError } from '../coder/errors';
import type { ClaimIndex } from '../store/claims';
import type { DesiredStore, ResourceKind } from '../store/types';
import { ReconcileError } from './errors';
import { withSuffix } from './mapping';

/** How far a clash is resolved by suffixing (name-1 ... name-20) before it is reported as a conflict. */
export const MAX_NAME_SUFFIX = 20;

export function isConflict(err: unknown): err is CoderApiError {
  return err instanceof CoderApiError && err.status === 409;
}

/**
 * Runs `attempt` with `base`, then `base-1`, `base-2`... while Coder answers 409: a name taken by a Coder
 * user or group the bridge may not adopt.
 */
export async function firstFreeName<T>(base: string, max: number, attempt: (name: string) => Promise<T>): Promise<T> {
  for (let n = 0; n <= MAX_NAME_SUFFIX; n++) {
    try {
      return await attempt(n === 0 ? base : withSuffix(base, n, max));
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  throw new ReconcileError('conflict', `no free Coder name from "${base}" to "${withSuffix(base, MAX_NAME_SUFFIX, max)}"`, true);
}

export interface ClaimDeps {
  store: DesiredStore;
  claims: ClaimIndex;
}

/**
 * Claims a Coder resource for `scimId` when it is free, already ours, or held by a SCIM resource that has
 * since been deleted (whose tombstone then gives way, so it can never act on the adopted resource again).
 * Returns the holder that keeps it otherwise.
 */
export async function takeClaim(deps: ClaimDeps, kind: ResourceKind, coderId: string, scimId: string): Promise<{ taken: true } | { taken: false; holder: string }> {
  const holder = await deps.claims.claim(kind, coderId, scimId);
  if (holder === scimId) return { taken: true };
  const holderExists = (kind === 'user' ? await deps.store.getUser(holder) : await deps.store.getGroup(holder)) !== null;
  if (holderExists || (await deps.claims.claim(kind, coderId, scimId, holder)) !== scimId) return { taken: false, holder };
  await deps.store.deleteSync(kind, holder);
  return { taken: true };
}

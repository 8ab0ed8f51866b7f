import type { CoderClient } from '../coder/client';
import { CoderApiError } from '../coder/errors';
import type { ClaimIndex } from '../store/claims';
import type { DesiredStore } from '../store/types';
import type { ResourceKind } from '../model/resource';
import type { AdoptGroups } from '../model/adopt-groups';
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

/** What the reconcilers need to apply the adoption rules (adoption-rules.ts) to what they find in Coder. */
export interface AdoptionPolicy {
  /** The Coder user behind the bridge's session token: never adopted, never changed. */
  tokenUserId(): Promise<string>;
  groups: AdoptGroups;
}

/** How long the token user's id is trusted: a token file re-read on change may belong to someone else. */
const TOKEN_USER_TTL_MS = 60_000;

/**
 * The token user's id from GET /users/me, asked only when an adoption question comes up and then reused for a
 * minute. A failed read is not cached: the next question asks again.
 */
export function tokenUserIdOf(coder: Pick<CoderClient, 'me'>, now: () => number = Date.now): () => Promise<string> {
  let cached: { id: Promise<string>; at: number } | undefined;
  return () => {
    if (cached && now() - cached.at < TOKEN_USER_TTL_MS) return cached.id;
    const id = coder.me().then((user) => user.id);
    const entry = { id, at: now() };
    cached = entry;
    id.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return id;
  };
}

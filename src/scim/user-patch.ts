/** A user PATCH (RFC 7644 §3.5.2); a group PATCH is planned in group-patch.ts, both read operations with patch-ops.ts. */

import { USER_MODEL } from './catalog';
import { normaliseResource } from './normalise';
import { readOperations } from './patch-ops';
import { applyOperation } from './patch-engine';
import { validateUser } from './user';

/**
 * A user PATCH: every operation applied in order to a copy of the stored document, then the result is
 * normalised and validated like a PUT body (so a PATCH cannot remove the user's last e-mail). The id, if the
 * document has one, is kept.
 */
export function applyUserPatch<T extends Record<string, unknown>>(doc: T, body: unknown): T {
  const operations = readOperations(body);
  const { id, ...attributes } = doc;
  const working = structuredClone(attributes);
  for (const { op, path, value } of operations) applyOperation(USER_MODEL, working, op, path, value);
  const patched = normaliseResource(USER_MODEL, working);
  validateUser(patched);
  return (id === undefined ? patched : { ...patched, id }) as unknown as T;
}

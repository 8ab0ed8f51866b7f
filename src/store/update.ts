import { writeResourceCall } from './calls';
import type { StoreContext } from './context';
import { indexDelta, lexDelta, type IndexKeys, type StoreKeys } from './keys';
import { CONFLICT, retryOnConflict, scriptOutcome } from './optimistic';
import type { ResourceReader } from './resources';
import { StoreError } from './types';
import { type ResourceKind, type ScimDocument, type StoredResource } from '../model/resource';

/**
 * Optimistic read-modify-write of a user or group record and its index entries, shared by both: read, let
 * `mutate` compute the next document, write only if the version is unchanged, else read again and retry.
 */
export function updateRecord<Fields extends object>(
  ctx: StoreContext,
  kind: ResourceKind,
  reader: ResourceReader<Fields>,
  indexKeysOf: (keys: StoreKeys, fields: Fields) => IndexKeys,
  id: string,
  mutate: (current: StoredResource) => { doc: ScimDocument; fields: Fields },
): Promise<StoredResource> {
  const { keys } = ctx;
  return retryOnConflict(`${kind} ${id}`, async () => {
    const current = await reader.read(id);
    if (!current) throw new StoreError('not_found', `${kind} ${id} not found`);
    const next = mutate(current.resource);
    const now = Date.now();
    const [before, after] = [indexKeysOf(keys, current.fields), indexKeysOf(keys, next.fields)];
    const write = { kind, id, expectedVersion: current.resource.version, doc: next.doc, fields: next.fields, delta: indexDelta(before, after), lex: lexDelta(before, after), now };
    const reply = scriptOutcome(await ctx.runScript('scimBridgeWriteResource', writeResourceCall(keys, write)), `${kind} ${id}`);
    if (reply === CONFLICT) return CONFLICT;
    return { ...current.resource, version: Number(reply[1]), lastModified: now, doc: next.doc };
  });
}

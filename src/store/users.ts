import { deleteUserCall, writeResourceCall } from './calls';
import type { StoreContext } from './context';
import { indexDelta, NO_INDEX_KEYS, userIndexKeys } from './keys';
import { CONFLICT, retryOnConflict, scriptOutcome } from './optimistic';
import { execPipeline } from './pipeline';
import { decodeRecord, RECORD_FIELDS } from './record';
import { ResourceReader } from './resources';
import { updateRecord } from './update';
import { StoreError, type Precondition, type ScimDocument, type StoredResource, type UserIndexFields, type UserMutation } from './types';

/** Users: records, their unique userName and their email/externalId indexes. */
export class UserRecords {
  readonly reader: ResourceReader<UserIndexFields>;

  constructor(private readonly ctx: StoreContext) {
    this.reader = new ResourceReader(ctx, 'user');
  }

  async create(doc: ScimDocument, fields: UserIndexFields): Promise<StoredResource> {
    const { keys } = this.ctx;
    const now = Date.now();
    const delta = indexDelta(NO_INDEX_KEYS, userIndexKeys(keys, fields));
    const call = writeResourceCall(keys, { kind: 'user', id: doc.id, expectedVersion: 0, doc, fields, delta, now });
    const reply = scriptOutcome(await this.ctx.runScript('scimBridgeWriteResource', call), `user ${doc.id}`);
    if (reply === CONFLICT) throw new StoreError('version_conflict', `user ${doc.id} changed while being created`);
    return { kind: 'user', id: doc.id, version: Number(reply[1]), created: now, lastModified: now, doc };
  }

  update(id: string, mutate: UserMutation): Promise<StoredResource> {
    return updateRecord(this.ctx, 'user', this.reader, userIndexKeys, id, mutate);
  }


  delete(id: string, precondition?: Precondition): Promise<{ deleted: boolean; groupIds: string[] }> {
    const { keys } = this.ctx;
    return retryOnConflict(`user ${id}`, async () => {
      const [values, groupIds] = (await execPipeline(
        this.ctx.redis.pipeline().hmget(keys.record('user', id), ...RECORD_FIELDS).smembers(keys.userGroups(id)),
      )) as [(string | null)[], string[]];
      const current = decodeRecord<UserIndexFields>('user', id, values);
      if (!current) return { deleted: false, groupIds: [] };
      precondition?.(current.resource);
      const release = indexDelta(userIndexKeys(keys, current.fields), NO_INDEX_KEYS);
      const call = deleteUserCall(keys, { id, expectedVersion: current.resource.version, release, now: Date.now() }, groupIds);
      const reply = await this.ctx.runScript('scimBridgeDeleteUser', call);
      if (reply[0] === 'not_found') return { deleted: false, groupIds: [] };
      if (scriptOutcome(reply, `user ${id}`) === CONFLICT) return CONFLICT;
      return { deleted: true, groupIds };
    });
  }

  async find(attribute: 'userName' | 'externalId' | 'email', value: string): Promise<string[]> {
    const { keys, redis } = this.ctx;
    if (attribute === 'userName') {
      const id = await redis.get(keys.userNameIndex(value));
      return id === null ? [] : [id];
    }
    const key = attribute === 'email' ? keys.userEmailIndex(value) : keys.userExternalIdIndex(value);
    return (await redis.smembers(key)).sort();
  }

  groupIds(id: string): Promise<string[]> {
    return this.ctx.redis.smembers(this.ctx.keys.userGroups(id));
  }
}

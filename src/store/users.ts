import { deleteUserCall, writeResourceCall } from './calls';
import type { StoreContext } from './context';
import { indexDelta, lexDelta, NO_INDEX_KEYS, userIndexKeys } from './keys';
import { CONFLICT, retryOnConflict, scriptOutcome } from './optimistic';
import { backfillUserIndexes } from './index-backfill';
import { execPipeline } from './context';
import { decodeRecord, RECORD_FIELDS } from './record';
import { ResourceReader } from './resources';
import { updateRecord } from './update';
import { StoreError, type Precondition, type UserLookup, type UserMutation } from './types';
import { type ScimDocument, type StoredResource, type UserIndexFields } from '../model/resource';

/** A byte no UTF-8 text holds: the upper end of a ZRANGEBYLEX over every member that starts with a prefix. */
const LEX_MAX = Buffer.from([0xff]);

/** Users: records, their unique userName and their email/externalId/displayName indexes and userName-prefix index. */
export class UserRecords {
  readonly reader: ResourceReader<UserIndexFields>;

  constructor(private readonly ctx: StoreContext) {
    this.reader = new ResourceReader(ctx, 'user');
  }

  async create(doc: ScimDocument, fields: UserIndexFields): Promise<StoredResource> {
    const { keys } = this.ctx;
    const now = Date.now();
    const index = userIndexKeys(keys, fields, doc.id);
    const write = { kind: 'user' as const, id: doc.id, expectedVersion: 0, doc, fields, delta: indexDelta(NO_INDEX_KEYS, index), lex: lexDelta(NO_INDEX_KEYS, index), now };
    const call = writeResourceCall(keys, write);
    const reply = scriptOutcome(await this.ctx.runScript('scimBridgeWriteResource', call), `user ${doc.id}`);
    if (reply === CONFLICT) throw new StoreError('version_conflict', `user ${doc.id} changed while being created`);
    return { kind: 'user', id: doc.id, version: Number(reply[1]), created: now, lastModified: now, doc };
  }

  update(id: string, mutate: UserMutation): Promise<StoredResource> {
    return updateRecord(this.ctx, 'user', this.reader, (keys, fields) => userIndexKeys(keys, fields, id), id, mutate);
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
      const held = userIndexKeys(keys, current.fields, id);
      const release = indexDelta(held, NO_INDEX_KEYS);
      const call = deleteUserCall(keys, { id, expectedVersion: current.resource.version, release, releaseLex: held.lex, now: Date.now() }, groupIds);
      const reply = await this.ctx.runScript('scimBridgeDeleteUser', call);
      if (reply[0] === 'not_found') return { deleted: false, groupIds: [] };
      if (scriptOutcome(reply, `user ${id}`) === CONFLICT) return CONFLICT;
      return { deleted: true, groupIds };
    });
  }

  async find(attribute: UserLookup, value: string): Promise<string[] | undefined> {
    const { keys, redis } = this.ctx;
    if (attribute === 'displayName' || attribute === 'userNamePrefix') {
      // Users stored before these indexes existed are in them only once the backfill has run.
      if (!(await this.indexesComplete())) return undefined;
      if (attribute === 'displayName') return (await redis.smembers(keys.userDisplayNameIndex(value))).sort();
      const prefix = value.toLowerCase();
      const members = await redis.zrangebylex(keys.userNameLexIndex(), `[${prefix}`, Buffer.concat([Buffer.from(`[${prefix}`), LEX_MAX]));
      return members.map((member) => member.slice(member.lastIndexOf('\u0000') + 1));
    }
    if (attribute === 'userName') {
      const id = await redis.get(keys.userNameIndex(value));
      return id === null ? [] : [id];
    }
    const key = attribute === 'email' ? keys.userEmailIndex(value) : keys.userExternalIdIndex(value);
    return (await redis.smembers(key)).sort();
  }

  private complete = false;
  private backfill?: Promise<void>;

  /** Whether the displayName and userName-prefix indexes hold every user; if not, starts filling them once. */
  private async indexesComplete(): Promise<boolean> {
    if (this.complete) return true;
    this.complete = (await this.ctx.redis.exists(this.ctx.keys.userIndexesComplete())) === 1;
    if (!this.complete && !this.backfill) {
      this.backfill = backfillUserIndexes(this.ctx, this.reader).catch(() => {
        // Redis failed: the next lookup starts it again, and scans answer meanwhile.
        this.backfill = undefined;
      });
    }
    return this.complete;
  }

  groupIds(id: string): Promise<string[]> {
    return this.ctx.redis.smembers(this.ctx.keys.userGroups(id));
  }
}

import { changeMembersCall, deleteGroupCall, incrementalDelta, replacementDelta, writeResourceCall, type MemberDelta } from './calls';
import type { StoreContext } from './context';
import { groupIndexKeys, indexDelta, NO_INDEX_KEYS } from './keys';
import { CONFLICT, retryOnConflict, scriptOutcome, type Attempt } from './optimistic';
import { execPipeline } from './context';
import { decodeRecord, RECORD_FIELDS } from './record';
import { ResourceReader } from './resources';
import { updateRecord } from './update';
import { StoreError, type GroupMutation, type MembershipResult, type Precondition } from './types';
import { type GroupIndexFields, type MembershipChange, type ScimDocument, type StoredResource } from '../model/resource';

/** Groups: records, displayName/externalId indexes, and member sets kept in step with each user's reverse set. */
export class GroupRecords {
  readonly reader: ResourceReader<GroupIndexFields>;

  constructor(private readonly ctx: StoreContext) {
    this.reader = new ResourceReader(ctx, 'group');
  }

  async create(
    doc: ScimDocument,
    fields: GroupIndexFields,
    memberIds: string[],
    displays?: Record<string, string>,
  ): Promise<StoredResource & { ignored: string[] }> {
    const { keys } = this.ctx;
    const now = Date.now();
    const delta = indexDelta(NO_INDEX_KEYS, groupIndexKeys(keys, fields));
    const write = { kind: 'group' as const, id: doc.id, expectedVersion: 0, doc, fields, delta, memberIds: [...new Set(memberIds)], displays, now };
    const reply = scriptOutcome(await this.ctx.runScript('scimBridgeWriteResource', writeResourceCall(keys, write)), `group ${doc.id}`);
    if (reply === CONFLICT) throw new StoreError('version_conflict', `group ${doc.id} changed while being created`);
    return { kind: 'group', id: doc.id, version: Number(reply[1]), created: now, lastModified: now, doc, ignored: reply.slice(2).map(String) };
  }

  update(id: string, mutate: GroupMutation): Promise<StoredResource> {
    return updateRecord(this.ctx, 'group', this.reader, groupIndexKeys, id, mutate);
  }


  /** O(group size): every member's reverse entry goes too. */
  delete(id: string, precondition?: Precondition): Promise<boolean> {
    const { keys } = this.ctx;
    return retryOnConflict(`group ${id}`, async () => {
      const [values, memberIds] = (await execPipeline(
        this.ctx.redis.pipeline().hmget(keys.record('group', id), ...RECORD_FIELDS).smembers(keys.members(id)),
      )) as [(string | null)[], string[]];
      const current = decodeRecord<GroupIndexFields>('group', id, values);
      if (!current) return false;
      precondition?.(current.resource);
      const release = indexDelta(groupIndexKeys(keys, current.fields), NO_INDEX_KEYS);
      const call = deleteGroupCall(keys, { id, expectedVersion: current.resource.version, release, now: Date.now() }, memberIds);
      const reply = await this.ctx.runScript('scimBridgeDeleteGroup', call);
      if (reply[0] === 'not_found') return false;
      return scriptOutcome(reply, `group ${id}`) === CONFLICT ? CONFLICT : true;
    });
  }

  /**
   * add/remove cost O(changed members) and apply to any version (set arithmetic commutes); replace diffs.
   * Display names are written and removed with the memberships they belong to, in the same script.
   */
  changeMembers(groupId: string, change: MembershipChange): Promise<MembershipResult> {
    const { replace } = change;
    if (replace === undefined) return retryOnConflict(`group ${groupId}`, () => this.applyMembers(groupId, change, incrementalDelta(change)));
    return retryOnConflict(`group ${groupId}`, async () => {
      const { keys } = this.ctx;
      const [version, current] = (await execPipeline(
        this.ctx.redis.pipeline().hget(keys.record('group', groupId), 'version').smembers(keys.members(groupId)),
      )) as [string | null, string[]];
      if (version === null) throw new StoreError('not_found', `group ${groupId} not found`);
      return this.applyMembers(groupId, change, replacementDelta({ ...change, replace }, new Set(current)), Number(version));
    });
  }

  private async applyMembers(groupId: string, change: MembershipChange, delta: MemberDelta, expectedVersion?: number): Promise<Attempt<MembershipResult>> {
    const call = changeMembersCall(this.ctx.keys, groupId, change, delta, Date.now(), expectedVersion);
    const reply = scriptOutcome(await this.ctx.runScript('scimBridgeChangeMembers', call), `group ${groupId}`);
    if (reply === CONFLICT) return CONFLICT;
    return { version: Number(reply[1]), lastModified: Number(reply[2]), ignored: reply.slice(3).map(String) };
  }

  async find(attribute: 'displayName' | 'externalId', value: string): Promise<string[]> {
    const { keys, redis } = this.ctx;
    const key = attribute === 'displayName' ? keys.groupDisplayNameIndex(value) : keys.groupExternalIdIndex(value);
    return (await redis.smembers(key)).sort();
  }

  memberIds(groupId: string): Promise<string[]> {
    return this.ctx.redis.smembers(this.ctx.keys.members(groupId));
  }

  scanMembers(groupId: string, cursor: string, count: number): Promise<[string, string[]]> {
    return this.ctx.redis.sscan(this.ctx.keys.members(groupId), cursor, 'COUNT', count);
  }

  async memberCounts(groupIds: string[]): Promise<number[]> {
    if (groupIds.length === 0) return [];
    const pipeline = this.ctx.redis.pipeline();
    for (const id of groupIds) pipeline.scard(this.ctx.keys.members(id));
    return (await execPipeline(pipeline)).map(Number);
  }

  /**
   * The display names clients sent with these members (Okta: the userName; Microsoft's tests: any text), kept
   * beside the member set so that reads echo them. The membership scripts write and remove them together with the
   * memberships they belong to, so the hash only ever holds entries for current members.
   */
  async memberDisplays(groupId: string, memberIds: string[]): Promise<(string | null)[]> {
    if (memberIds.length === 0) return [];
    return this.ctx.redis.hmget(this.ctx.keys.memberDisplays(groupId), ...memberIds);
  }

  async isMember(groupId: string, userId: string): Promise<boolean> {
    return (await this.ctx.redis.sismember(this.ctx.keys.members(groupId), userId)) === 1;
  }
}

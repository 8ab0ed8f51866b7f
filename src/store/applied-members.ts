import { settleMembersCall, type MemberSettlement } from './calls';
import type { StoreContext } from './context';
import { execPipeline } from './context';
import { decodeSync } from './sync';
import type { MemberState, ScanPage } from './types';

/** Pairs per HSET when a group's applied members are written whole: bounded replies, the event loop breathes. */
const WRITE_BATCH = 1_000;
/** The stamp of a member marked by the reconciler rather than by a membership write. */
const MARKED_STAMP = 'marked';

/**
 * The members applied to each Coder group (a hash SCIM user id -> Coder id) and the member changes recorded
 * since (see StoreKeys.memberChanges): what lets a one-member change be reconciled in O(1), whatever the group's
 * size. The membership scripts write the changes; only the group reconciler reads and settles them.
 */
export class AppliedMembers {
  constructor(private readonly ctx: StoreContext) {}

  async scanChanges(groupId: string, cursor: string, count: number): Promise<ScanPage<[userId: string, stamp: string]>> {
    const [next, flat] = await this.ctx.redis.hscan(this.ctx.keys.memberChanges(groupId), cursor, 'COUNT', count);
    const items: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) items.push([flat[i], flat[i + 1]]);
    return { cursor: next, items };
  }

  async scanMembers(groupId: string, cursor: string, count: number): Promise<ScanPage<string>> {
    const [next, items] = await this.ctx.redis.sscan(this.ctx.keys.members(groupId), cursor, 'COUNT', count);
    return { cursor: next, items };
  }

  /** The users applied to the Coder group (SCIM ids), a page at a time: who was in it, after the SCIM group is gone. */
  async scanApplied(groupId: string, cursor: string, count: number): Promise<ScanPage<string>> {
    const [next, flat] = await this.ctx.redis.hscan(this.ctx.keys.appliedMembers(groupId), cursor, 'COUNT', count);
    return { cursor: next, items: flat.filter((_, i) => i % 2 === 0) };
  }

  /** For each user: a desired member? the Coder id applied for it, and its own sync status. One round trip. */
  async states<A>(groupId: string, userIds: string[]): Promise<MemberState<A>[]> {
    if (userIds.length === 0) return [];
    const { keys, redis } = this.ctx;
    const [members, applied, syncs] = (await execPipeline(
      redis
        .pipeline()
        .smismember(keys.members(groupId), ...userIds)
        .hmget(keys.appliedMembers(groupId), ...userIds)
        .mget(userIds.map((userId) => keys.sync('user', userId))),
    )) as [number[], (string | null)[], (string | null)[]];
    return userIds.map((userId, i) => ({ userId, member: members[i] === 1, appliedCoderId: applied[i], user: decodeSync<A>(syncs[i]) }));
  }

  async settle(groupId: string, settlement: MemberSettlement): Promise<void> {
    await this.ctx.runScript('scimBridgeSettleMembers', settleMembersCall(this.ctx.keys, groupId, settlement));
  }

  /** A change entry for each member that has none (an existing entry keeps its stamp). */
  async mark(groupId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    const pipeline = this.ctx.redis.pipeline();
    for (const userId of userIds) pipeline.hsetnx(this.ctx.keys.memberChanges(groupId), userId, MARKED_STAMP);
    await execPipeline(pipeline);
  }

  /** Written aside in batches, then swapped in with one RENAME: a reader never sees half of it. */
  async replace(groupId: string, applied: [userId: string, coderId: string][]): Promise<void> {
    const { keys, redis } = this.ctx;
    const draft = keys.appliedMembersDraft(groupId);
    await redis.del(draft);
    for (let i = 0; i < applied.length; i += WRITE_BATCH) await redis.hset(draft, ...applied.slice(i, i + WRITE_BATCH).flat());
    if (applied.length === 0) await redis.del(keys.appliedMembers(groupId));
    else await redis.rename(draft, keys.appliedMembers(groupId));
  }

  /** The Coder ids applied, for a resync's comparison with Coder. */
  coderIds(groupId: string): Promise<string[]> {
    return this.ctx.redis.hvals(this.ctx.keys.appliedMembers(groupId));
  }
}

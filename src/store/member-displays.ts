import type { StoreContext } from './context';
import { execPipeline } from './pipeline';
import type { MembershipChange } from './types';

/**
 * The display names clients send with group members (Okta: the userName; Microsoft's tests: any text), kept
 * beside the member set so that reads echo them. Written after the membership itself: a display name is
 * cosmetic, and one left for an id that is no longer a member is never read, since reads ask only for
 * current members.
 */
export class MemberDisplays {
  constructor(private readonly ctx: StoreContext) {}

  async record(groupId: string, change: MembershipChange): Promise<void> {
    const key = this.ctx.keys.memberDisplays(groupId);
    const displays = change.displays ?? {};
    const removed = change.remove ?? [];
    if (!change.replace && removed.length === 0 && Object.keys(displays).length === 0) return;
    const pipeline = this.ctx.redis.pipeline();
    if (change.replace) pipeline.del(key);
    if (removed.length > 0) pipeline.hdel(key, ...removed);
    if (Object.keys(displays).length > 0) pipeline.hset(key, displays);
    await execPipeline(pipeline);
  }

  async forget(groupId: string): Promise<void> {
    await this.ctx.redis.del(this.ctx.keys.memberDisplays(groupId));
  }

  async read(groupId: string, memberIds: string[]): Promise<(string | null)[]> {
    if (memberIds.length === 0) return [];
    return this.ctx.redis.hmget(this.ctx.keys.memberDisplays(groupId), ...memberIds);
  }
}

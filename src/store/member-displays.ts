import type { StoreContext } from './context';

/**
 * The display names clients send with group members (Okta: the userName; Microsoft's tests: any text), kept
 * beside the member set so that reads echo them. The membership scripts write and remove them together with
 * the memberships they belong to, so the hash only ever holds entries for current members.
 */
export class MemberDisplays {
  constructor(private readonly ctx: StoreContext) {}

  async read(groupId: string, memberIds: string[]): Promise<(string | null)[]> {
    if (memberIds.length === 0) return [];
    return this.ctx.redis.hmget(this.ctx.keys.memberDisplays(groupId), ...memberIds);
  }
}

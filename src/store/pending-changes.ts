import type { Cluster, Redis } from 'ioredis';
import { parseResourceMember, StoreKeys } from './keys';
import type { ResourceKind } from '../model/resource';

/**
 * The pending marks set since a moment, oldest first: what the pending sweep reads instead of every mark.
 * Times are Redis' own clock (the scripts stamp them with TIME), so replicas' clocks never disagree.
 */
export class PendingChanges {
  private readonly keys: StoreKeys;

  constructor(
    private readonly redis: Redis | Cluster,
    prefix: string,
  ) {
    this.keys = new StoreKeys(prefix);
  }

  /** Redis' clock, in ms. */
  async now(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /**
   * The resources changed at or before `until` that are still pending, `limit` changes at a time from `offset`.
   * `scanned` is how many changes the page held, so the caller knows when it has read them all.
   */
  async stillPending(until: number, offset: number, limit: number): Promise<{ scanned: number; resources: { kind: ResourceKind; id: string }[] }> {
    const members = await this.redis.zrangebyscore(this.keys.pendingChanges(), '-inf', until, 'LIMIT', offset, limit);
    if (members.length === 0) return { scanned: 0, resources: [] };
    const versions = await this.redis.zmscore(this.keys.pending(), ...members);
    const resources = members.flatMap((member, i) => {
      const resource = versions[i] === null ? null : parseResourceMember(member);
      return resource ? [resource] : [];
    });
    return { scanned: members.length, resources };
  }

  /** Forgets the changes at or before `until`: a change after it has a later time and stays. */
  async forget(until: number): Promise<void> {
    await this.redis.zremrangebyscore(this.keys.pendingChanges(), '-inf', until);
  }
}

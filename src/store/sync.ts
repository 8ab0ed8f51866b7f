import type { StoreContext } from './context';
import { parseResourceMember, resourceMember } from './keys';
import { execPipeline } from './context';
import type { PermanentFailures } from './types';
import type { SyncError, SyncStatus } from '../model/sync';
import type { ResourceKind } from '../model/resource';

type FailedStatus = SyncStatus<unknown> & { lastError: SyncError };

/**
 * What was last applied to Coder per resource. Deleting a desired resource leaves this record in place: it is
 * the tombstone the worker follows to remove the resource from Coder, and only the worker deletes it.
 * Every write keeps the failure index in step, in the same MULTI, so listing failures never reads every record.
 */
export class SyncRecords {
  constructor(private readonly ctx: StoreContext) {}

  async get<A>(kind: ResourceKind, id: string): Promise<SyncStatus<A> | null> {
    return decodeSync<A>(await this.ctx.redis.get(this.ctx.keys.sync(kind, id)));
  }

  /** One MGET for any number of ids (legal on Redis Cluster: the hash-tagged prefix puts them in one slot). */
  async getMany<A>(kind: ResourceKind, ids: string[]): Promise<(SyncStatus<A> | null)[]> {
    if (ids.length === 0) return [];
    const values = await this.ctx.redis.mget(ids.map((id) => this.ctx.keys.sync(kind, id)));
    return values.map((json) => decodeSync<A>(json));
  }

  async set<A>(kind: ResourceKind, id: string, status: SyncStatus<A>, createdCoderIds: string[] = []): Promise<void> {
    const { keys } = this.ctx;
    const member = resourceMember(kind, id);
    const multi = this.ctx.redis.multi().set(keys.sync(kind, id), JSON.stringify(status)).sadd(keys.syncIds(kind), id);
    for (const coderId of createdCoderIds) multi.set(keys.claim(kind, coderId), id);
    if (status.lastError?.permanent) multi.zadd(keys.failures(), status.lastError.at, member);
    else multi.zrem(keys.failures(), member);
    await execPipeline(multi);
  }

  /** A group's applied members go with its status. */
  async delete(kind: ResourceKind, id: string): Promise<void> {
    const { keys } = this.ctx;
    const multi = this.ctx.redis.multi().del(keys.sync(kind, id)).srem(keys.syncIds(kind), id).zrem(keys.failures(), resourceMember(kind, id));
    if (kind === 'group') multi.del(keys.appliedMembers(id), keys.appliedMembersDraft(id));
    await execPipeline(multi);
  }

  ids(kind: ResourceKind): Promise<string[]> {
    return this.ctx.redis.smembers(this.ctx.keys.syncIds(kind));
  }

  /** Counts from the index; the statuses of the first `limit` in one MGET. */
  async permanentFailures(limit: number): Promise<PermanentFailures> {
    const ids: Record<ResourceKind, string[]> = { user: [], group: [] };
    for (const member of await this.ctx.redis.zrange(this.ctx.keys.failures(), 0, '-1')) {
      const resource = parseResourceMember(member);
      if (resource) ids[resource.kind].push(resource.id);
    }
    const inIdOrder = (kind: ResourceKind) => ids[kind].sort().map((id) => ({ kind, id }));
    const listed = [...inIdOrder('user'), ...inIdOrder('group')].slice(0, Math.max(0, limit));
    const statuses = listed.length === 0 ? [] : await this.ctx.redis.mget(listed.map(({ kind, id }) => this.ctx.keys.sync(kind, id)));
    const items: PermanentFailures['items'] = [];
    listed.forEach((resource, i) => {
      const status = decodeSync<unknown>(statuses[i]);
      // Rewritten between the two reads: the index has moved on too.
      if (isPermanentFailure(status)) items.push({ ...resource, status });
    });
    return { total: { user: ids.user.length, group: ids.group.length }, items };
  }
}

export function decodeSync<A>(json: string | null): SyncStatus<A> | null {
  return json === null ? null : (JSON.parse(json) as SyncStatus<A>);
}

function isPermanentFailure(status: SyncStatus<unknown> | null): status is FailedStatus {
  return status?.lastError?.permanent === true;
}

import type { StoreContext } from './context';
import { execPipeline } from './pipeline';
import type { ResourceKind, SyncStatus } from './types';

/**
 * What was last applied to Coder per resource. Deleting a desired resource leaves this record in place: it is
 * the tombstone the worker follows to remove the resource from Coder, and only the worker deletes it.
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

  async set<A>(kind: ResourceKind, id: string, status: SyncStatus<A>): Promise<void> {
    const { keys } = this.ctx;
    await execPipeline(this.ctx.redis.multi().set(keys.sync(kind, id), JSON.stringify(status)).sadd(keys.syncIds(kind), id));
  }

  async delete(kind: ResourceKind, id: string): Promise<void> {
    const { keys } = this.ctx;
    await execPipeline(this.ctx.redis.multi().del(keys.sync(kind, id)).srem(keys.syncIds(kind), id));
  }

  ids(kind: ResourceKind): Promise<string[]> {
    return this.ctx.redis.smembers(this.ctx.keys.syncIds(kind));
  }
}

function decodeSync<A>(json: string | null): SyncStatus<A> | null {
  return json === null ? null : (JSON.parse(json) as SyncStatus<A>);
}

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
    const json = await this.ctx.redis.get(this.ctx.keys.sync(kind, id));
    return json === null ? null : (JSON.parse(json) as SyncStatus<A>);
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

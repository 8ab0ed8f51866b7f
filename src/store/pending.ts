import { clearPendingCall } from './calls';
import type { StoreContext } from './context';
import { parseResourceMember } from './keys';
import type { ResourceKind } from '../model/resource';

/** The pending marks every write sets: what a crash between "stored" and "queued" would otherwise lose. */
export class PendingMarks {
  constructor(private readonly ctx: StoreContext) {}

  async list(limit?: number): Promise<{ kind: ResourceKind; id: string; version: number }[]> {
    if (limit !== undefined && limit <= 0) return [];
    const flat = await this.ctx.redis.zrange(this.ctx.keys.pending(), 0, String(limit === undefined ? -1 : limit - 1), 'WITHSCORES');
    const marks: { kind: ResourceKind; id: string; version: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const resource = parseResourceMember(flat[i]);
      if (resource) marks.push({ ...resource, version: Number(flat[i + 1]) });
    }
    return marks;
  }

  async clear(kind: ResourceKind, id: string, version: number): Promise<void> {
    await this.ctx.runScript('scimBridgeClearPending', clearPendingCall(this.ctx.keys, kind, id, version));
  }
}

import type { StoreContext } from './context';
import { userNameLexMember } from './keys';
import { execPipeline } from './context';
import type { ResourceReader } from './resources';
import type { UserIndexFields } from '../model/resource';

/** Users read per step. */
const BATCH = 500;

/**
 * Puts the users stored before the displayName and userName-prefix indexes existed into them, then marks the
 * indexes complete; until then lookups on them fall back to scans. Idempotent, so every replica may run it.
 * Walks the user list by creation sequence (scores), not rank, so deletions meanwhile cannot make it skip a
 * user; a user renamed meanwhile may keep an entry under its old name, which only adds a candidate that the
 * filter then rejects.
 */
export async function backfillUserIndexes(ctx: StoreContext, reader: ResourceReader<UserIndexFields>): Promise<void> {
  const { keys, redis } = ctx;
  let after = '-inf';
  for (;;) {
    const page = await redis.zrangebyscore(keys.list('user'), after, '+inf', 'WITHSCORES', 'LIMIT', 0, BATCH);
    const ids = page.filter((_, i) => i % 2 === 0);
    if (ids.length === 0) break;
    const pipeline = redis.pipeline();
    for (const record of await reader.readMany(ids)) {
      if (!record) continue;
      const { id, doc } = record.resource;
      pipeline.zadd(keys.userNameLexIndex(), 0, userNameLexMember(record.fields.userName, id));
      if (typeof doc.displayName === 'string') pipeline.sadd(keys.userDisplayNameIndex(doc.displayName), id);
    }
    await execPipeline(pipeline);
    after = `(${page[page.length - 1]}`;
  }
  await redis.set(keys.userIndexesComplete(), '1');
}

import { randomUUID } from 'node:crypto';
import { parseGroupInput } from '../src/scim/group';
import { parseUserInput } from '../src/scim/user';
import type { DesiredStore } from '../src/store/types';
import { seededUserName, userDocument } from './workload';
import { GROUP_SCHEMA } from '../src/scim/urns';

/**
 * Seeding straight into the bridge's store, through the same parsing and store calls a SCIM POST makes, but
 * without HTTP: 100,000 users take seconds instead of minutes.
 */

/** Writes in flight at once: enough to keep Redis busy, few enough to bound the seeder's memory. */
const SEED_CONCURRENCY = 500;
/** Member ids per membership change while filling a large group. */
const MEMBER_BATCH = 1_000;

/** Users `from` (inclusive) to `to` (exclusive) by seededUserName index; returns their ids in index order. */
export async function seedUsers(store: DesiredStore, from: number, to: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = from; start < to; start += SEED_CONCURRENCY) {
    const end = Math.min(start + SEED_CONCURRENCY, to);
    const batch = Array.from({ length: end - start }, (_, i) => {
      const { doc, fields } = parseUserInput(userDocument(seededUserName(start + i)));
      return store.createUser({ ...doc, id: randomUUID() }, fields);
    });
    for (const stored of await Promise.all(batch)) ids.push(stored.id);
  }
  return ids;
}

/** A group whose members are `memberIds` (users already in the store); returns its id. */
export async function seedGroup(store: DesiredStore, displayName: string, memberIds: string[]): Promise<string> {
  const { doc, fields } = parseGroupInput({ schemas: [GROUP_SCHEMA], displayName });
  const id = randomUUID();
  await store.createGroup({ ...doc, id }, fields, []);
  for (let start = 0; start < memberIds.length; start += MEMBER_BATCH) {
    const { ignored } = await store.changeMembers(id, { add: memberIds.slice(start, start + MEMBER_BATCH) });
    if (ignored.length > 0) throw new Error(`seeding ${displayName}: ${ignored.length} member ids were not users`);
  }
  return id;
}

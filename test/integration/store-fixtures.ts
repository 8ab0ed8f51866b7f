import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { groupIndexKeys, StoreKeys, userIndexKeys } from '../../src/store/keys';
import { RedisStore } from '../../src/store/redis-store';
import type { GroupIndexFields, ScimDocument, UserIndexFields } from '../../src/model/resource';
import { scanKeys, testRedis } from '../redis';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/** A store on the shared test Redis under a prefix of its own, and the means to remove exactly its keys. */
export interface TestStore {
  redis: Redis;
  prefix: string;
  keys: StoreKeys;
  store: RedisStore;
}

export function openTestStore(): TestStore {
  const redis = testRedis({ maxRetriesPerRequest: 1 });
  const prefix = `test-${randomUUID()}`;
  return { redis, prefix, keys: new StoreKeys(prefix), store: new RedisStore(redis, prefix) };
}

export function userDoc(userName: string, extra: Record<string, unknown> = {}): ScimDocument {
  return { id: randomUUID(), schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, ...extra };
}

export function groupDoc(displayName: string): ScimDocument {
  return { id: randomUUID(), schemas: [GROUP_SCHEMA], displayName };
}

async function readIndexKey(redis: Redis, key: string): Promise<string[]> {
  const type = await redis.type(key);
  return type === 'string' ? [(await redis.get(key)) as string] : (await redis.smembers(key)).sort();
}

/**
 * Recomputes every index entry and membership link from the records and compares with what is in Redis:
 * no missing entry, no stale entry, member and reverse sets mirror each other, display names only for current
 * members, no orphan keys.
 */
export async function expectConsistent({ redis, keys, prefix }: TestStore): Promise<void> {
  const expected = new Map<string, string[]>();
  const expect1 = (key: string, id: string) => expected.set(key, [...(expected.get(key) ?? []), id].sort());
  const userIds = await redis.zrange(keys.list('user'), 0, '-1');
  const groupIds = await redis.zrange(keys.list('group'), 0, '-1');
  for (const id of userIds) {
    const fields = JSON.parse((await redis.hget(keys.record('user', id), 'fields')) as string) as UserIndexFields;
    const index = userIndexKeys(keys, fields);
    for (const key of [...index.unique, ...index.sets]) expect1(key, id);
  }
  for (const id of groupIds) {
    const fields = JSON.parse((await redis.hget(keys.record('group', id), 'fields')) as string) as GroupIndexFields;
    for (const key of groupIndexKeys(keys, fields).sets) expect1(key, id);
  }
  const actual = new Map<string, string[]>();
  for (const key of await scanKeys(redis, `${prefix}:idx:*`)) actual.set(key, await readIndexKey(redis, key));
  expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));

  const records = await scanKeys(redis, `${prefix}:*`);
  const userRecords = records.filter((key) => /^[^:]+:user:[^:]+$/.test(key)).sort();
  const groupRecords = records.filter((key) => /^[^:]+:group:[^:]+$/.test(key)).sort();
  expect(userRecords).toEqual(userIds.map((id) => keys.record('user', id)).sort());
  expect(groupRecords).toEqual(groupIds.map((id) => keys.record('group', id)).sort());

  const memberLinks = new Set<string>();
  for (const key of records.filter((k) => /^[^:]+:group:[^:]+:members$/.test(k))) {
    const groupId = key.split(':')[2];
    expect(groupIds).toContain(groupId);
    for (const userId of await redis.smembers(key)) memberLinks.add(`${groupId}/${userId}`);
  }
  const reverseLinks = new Set<string>();
  for (const key of records.filter((k) => /^[^:]+:user:[^:]+:groups$/.test(k))) {
    const userId = key.split(':')[2];
    expect(userIds).toContain(userId);
    for (const groupId of await redis.smembers(key)) reverseLinks.add(`${groupId}/${userId}`);
  }
  expect([...memberLinks].sort()).toEqual([...reverseLinks].sort());

  const displaysOfNonMembers: string[] = [];
  for (const key of records.filter((k) => /^[^:]+:group:[^:]+:displays$/.test(k))) {
    const groupId = key.split(':')[2];
    for (const userId of await redis.hkeys(key)) if (!memberLinks.has(`${groupId}/${userId}`)) displaysOfNonMembers.push(`${groupId}/${userId}`);
  }
  expect(displaysOfNonMembers).toEqual([]);
}

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { request } from 'undici';
import { MAX_ATTRIBUTE_NAMES, MAX_MULTI_VALUED_ENTRIES, MAX_NAME_LENGTH, MAX_PATCH_OPERATIONS, MAX_STRING_LENGTH } from '../../src/scim/limits';
import { MAX_EMAIL_LENGTH } from '../../src/model/email';
import { StoreKeys } from '../../src/store/keys';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * The requests of issue 9's cost findings, each at the largest size the limits accept (or just past it, where
 * the answer is the limit's 400), shared by test/bounded and `npm run bench:hostile`.
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** MAX_BODY_BYTES's default: the largest body a request can carry. */
export const BODY_LIMIT = 1_048_576;

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text: parsing it is the test's business, outside any measurement. */
  text: string;
}

/** One SCIM request, reading the answer whole but not parsing it. */
export async function send(origin: string, token: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/scim+json';
  const reply = await request(`${origin}/scim/v2${path}`, {
    method: method as 'GET',
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: reply.statusCode, headers: reply.headers, text: await reply.body.text() };
}

/** `a@` then dots then a space: quadratic for a backtracking e-mail pattern. `length` counts the whole value. */
export function dottedEmail(length: number): string {
  return `a@${'.'.repeat(length - 3)} `;
}

/** A new user whose userName is not an address and whose only e-mail is `dottedEmail`: refused, 400. */
export function dottedEmailUser(length: number): Record<string, unknown> {
  return { schemas: [USER], userName: `dotted-${randomUUID()}`, emails: [{ value: dottedEmail(length) }] };
}

/** 254 characters: a valid address of the longest accepted length. */
export function longestEmail(tag: string): string {
  const domain = '@example.com';
  return `${tag}.${'x'.repeat(MAX_EMAIL_LENGTH - domain.length - tag.length - 1)}${domain}`;
}

/** A user with every limit reached: names of 256, 100 e-mails of 254, other strings of 1,024 characters. */
export function largestUser(): Record<string, unknown> {
  const tag = randomUUID();
  const text = (c: string) => c.repeat(MAX_STRING_LENGTH);
  return {
    schemas: [USER],
    userName: `${tag}-${'u'.repeat(MAX_NAME_LENGTH - tag.length - 1)}`,
    displayName: 'd'.repeat(MAX_NAME_LENGTH),
    name: { givenName: text('g'), familyName: text('f'), formatted: text('n') },
    title: text('t'),
    emails: Array.from({ length: MAX_MULTI_VALUED_ENTRIES }, (_, i) => ({ value: longestEmail(`${i}-${tag}`), type: 'work', primary: i === 0 })),
  };
}

/**
 * A PATCH of as many `add emails` operations as fit in the body limit, each re-adding the user's own 100
 * addresses: before the fix each value was compared with every other (17.6 s for 2 x 8,000).
 */
export function duplicateEmailsPatch(emails: unknown[]): Record<string, unknown> {
  const operation = { op: 'add', path: 'emails', value: emails };
  const perOperation = JSON.stringify(operation).length + 1;
  const count = Math.min(MAX_PATCH_OPERATIONS, Math.floor((BODY_LIMIT - 200) / perOperation));
  return { schemas: [PATCH_OP], Operations: Array.from({ length: count }, () => operation) };
}

export function patchOf(operations: unknown[]): Record<string, unknown> {
  return { schemas: [PATCH_OP], Operations: operations };
}

/** 1,000 operations adding one member each (before the fix, merging them was quadratic). */
export function oneMemberOperations(userIds: string[]): Record<string, unknown> {
  return patchOf(Array.from({ length: MAX_PATCH_OPERATIONS }, (_, i) => ({ op: 'add', path: 'members', value: [{ value: userIds[i % userIds.length] }] })));
}

/** 100 attribute names, value filters among them, for a page of `count`: parsed once per request, not per resource. */
export function wideProjectionSearch(count: number): Record<string, unknown> {
  const names = Array.from({ length: MAX_ATTRIBUTE_NAMES }, (_, i) =>
    i % 4 === 0 ? `emails[type eq "work${i}"].value` : i % 4 === 1 ? `name.givenName${i}` : i % 4 === 2 ? 'userName' : `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`,
  );
  return { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], attributes: names, count };
}

export function groupBody(displayName: string, memberIds: string[] = []): Record<string, unknown> {
  return { schemas: [GROUP_SCHEMA], displayName, members: memberIds.map((value) => ({ value })) };
}

/**
 * Users written straight into the store's layout (a record hash each, nothing else): what rendering a group's
 * members reads. 100,000 take a second or two, where the full write path takes half a minute.
 */
export async function seedBareUsers(redis: Redis, prefix: string, count: number): Promise<string[]> {
  const keys = new StoreKeys(prefix);
  const ids: string[] = [];
  const now = String(Date.now());
  for (let start = 0; start < count; start += 5_000) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(count, start + 5_000); i++) {
      const id = randomUUID();
      const userName = `bare.user${i}@example.com`;
      const doc = { schemas: [USER], id, userName, displayName: `Bare User ${i}`, emails: [{ value: userName, primary: true }] };
      pipeline.hset(keys.record('user', id), 'version', '1', 'created', now, 'lastModified', now, 'doc', JSON.stringify(doc), 'fields', JSON.stringify({ userName, emails: [userName] }));
      ids.push(id);
    }
    await pipeline.exec();
  }
  return ids;
}

/** Fills a group's member set (and each user's reverse set) directly, in batches. */
export async function seedMembership(redis: Redis, prefix: string, groupId: string, userIds: string[]): Promise<void> {
  const keys = new StoreKeys(prefix);
  for (let start = 0; start < userIds.length; start += 5_000) {
    const batch = userIds.slice(start, start + 5_000);
    const pipeline = redis.pipeline().sadd(keys.members(groupId), ...batch);
    for (const userId of batch) pipeline.sadd(keys.userGroups(userId), groupId);
    await pipeline.exec();
  }
}

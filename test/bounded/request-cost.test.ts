import { Redis } from 'ioredis';
import { seedUsers } from '../../bench/seed';
import { MAX_ATTRIBUTE_NAMES, MAX_MULTI_VALUED_ENTRIES, MAX_NAME_LENGTH, MAX_PATCH_OPERATIONS, MAX_STRING_LENGTH } from '../../src/scim/limits';
import { MAX_EMAIL_LENGTH } from '../../src/model/email';
import { coderEmail, isEmail } from '../../src/model/email';
import { StoreKeys } from '../../src/store/keys';
import { startScimServer, type ScimServer } from '../integration/scim-harness';
import {
  dottedEmail,
  dottedEmailUser,
  duplicateEmailsPatch,
  groupBody,
  largestUser,
  oneMemberOperations,
  patchOf,
  send,
  wideProjectionSearch,
  type Reply,
} from './attacks';
import { EVENT_LOOP_BOUND_MS, measureEventLoop } from './event-loop';

// Its bounds are wall-clock: a run that loses the CPU to the other test files running beside it may miss one once.
// A real regression (seconds, every time) still fails all three tries.
jest.retryTimes(2, { logErrorsBeforeRetry: true });

/**
 * Issue 9's costly requests at the largest size the limits accept: each is answered with the expected status,
 * and the event loop of the server (in this process) is never held for long while it is served.
 */

const USERS = 1_000;
let server: ScimServer;
let userIds: string[];

beforeAll(async () => {
  server = await startScimServer();
  userIds = await seedUsers(server.store, 0, USERS);
}, 60_000);
afterAll(async () => {
  await server?.close();
});

async function measured(method: string, path: string, body?: unknown): Promise<Reply> {
  const { result, longestBlockMs } = await measureEventLoop(() => send(server.origin, server.token, method, path, body));
  expect(longestBlockMs).toBeLessThan(EVENT_LOOP_BOUND_MS);
  return result;
}

function expectScimError(reply: Reply, status: number, scimType: string | undefined, detail: RegExp): void {
  expect(reply.status).toBe(status);
  const body = JSON.parse(reply.text);
  expect(body.status).toBe(String(status));
  expect(body.scimType).toBe(scimType);
  expect(body.detail).toMatch(detail);
}

describe('e-mail check', () => {
  test('a@ + dots + space is refused at once, at the e-mail limit and at 125 KiB', async () => {
    expectScimError(await measured('POST', '/Users', dottedEmailUser(MAX_EMAIL_LENGTH)), 400, 'invalidValue', /e-mail/);
    expectScimError(await measured('POST', '/Users', dottedEmailUser(128_003)), 400, 'invalidValue', /emails\[0\]\.value is 128003 characters long; at most 254/);
  });

  test('a stored document with such a value maps in linear time (reconcile and resync run this)', () => {
    const value = dottedEmail(1_000_000);
    const started = performance.now();
    expect(isEmail(value)).toBe(false);
    expect(coderEmail({ userName: value, emails: [{ value }, { value: 'ok@example.com' }] })).toBe('ok@example.com');
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe('size limits', () => {
  test('a user at every limit is accepted', async () => {
    const reply = await measured('POST', '/Users', largestUser());
    expect(reply.status).toBe(201);
    expect(JSON.parse(reply.text).emails).toHaveLength(MAX_MULTI_VALUED_ENTRIES);
  });

  test.each([
    ['userName', { userName: 'u'.repeat(MAX_NAME_LENGTH + 1) }, /userName is 257 characters long; at most 256/],
    ['displayName', { displayName: 'd'.repeat(MAX_NAME_LENGTH + 1) }, /displayName is 257 characters long; at most 256/],
    ['an e-mail', { emails: [{ value: `${'e'.repeat(MAX_EMAIL_LENGTH - 11)}@example.com` }] }, /emails\[0\]\.value is 255 characters long; at most 254/],
    ['any other string', { title: 't'.repeat(MAX_STRING_LENGTH + 1) }, /title is 1025 characters long; at most 1024/],
    ['a sub-attribute', { name: { givenName: 'g'.repeat(MAX_STRING_LENGTH + 1) } }, /name\.givenName is 1025 characters long/],
    ['entries of a multi-valued attribute', { emails: Array.from({ length: MAX_MULTI_VALUED_ENTRIES + 1 }, (_, i) => ({ value: `m${i}@example.com` })) }, /emails has 101 entries; at most 100/],
  ])('one past the limit of %s is a 400 that names it', async (_name, change, detail) => {
    expectScimError(await measured('POST', '/Users', { ...largestUser(), ...change }), 400, 'invalidValue', detail);
  });

  test('a group displayName past its limit is a 400', async () => {
    expectScimError(await measured('POST', '/Groups', groupBody('g'.repeat(MAX_NAME_LENGTH + 1))), 400, 'invalidValue', /displayName is 257 characters/);
  });

  test('a PATCH value past a limit is a 400 and changes nothing', async () => {
    const id = userIds[0];
    const before = await send(server.origin, server.token, 'GET', `/Users/${id}`);
    expectScimError(await measured('PATCH', `/Users/${id}`, patchOf([{ op: 'replace', path: 'displayName', value: 'x'.repeat(MAX_NAME_LENGTH + 1) }])), 400, 'invalidValue', /at most 256/);
    expect((await send(server.origin, server.token, 'GET', `/Users/${id}`)).text).toBe(before.text);
  });
});

test('ServiceProviderConfig announces the body size, the operations and the page size', async () => {
  const config = JSON.parse((await send(server.origin, server.token, 'GET', '/ServiceProviderConfig')).text);
  expect(config.bulk).toEqual({ supported: false, maxOperations: MAX_PATCH_OPERATIONS, maxPayloadSize: server.config.scim.maxBodyBytes });
  expect(config.filter).toEqual({ supported: true, maxResults: server.config.scim.maxPageSize });
});

describe('PATCH', () => {
  test('operations re-adding 100 e-mails, as many as fit in the body, cost linear time', async () => {
    const created = JSON.parse((await send(server.origin, server.token, 'POST', '/Users', largestUser())).text);
    const body = duplicateEmailsPatch(created.emails);
    expect(JSON.stringify(body).length).toBeGreaterThan(900_000);
    const reply = await measured('PATCH', `/Users/${created.id}`, body);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text).emails).toEqual(created.emails);
  });

  test(`${MAX_PATCH_OPERATIONS} one-member group operations cost linear time`, async () => {
    const group = JSON.parse((await send(server.origin, server.token, 'POST', '/Groups', groupBody('thousand ops'))).text);
    expect((await measured('PATCH', `/Groups/${group.id}`, oneMemberOperations(userIds))).status).toBe(204);
    expect(await server.store.memberIds(group.id)).toHaveLength(Math.min(USERS, MAX_PATCH_OPERATIONS));
  });

  test(`${MAX_PATCH_OPERATIONS + 1} operations are a 400`, async () => {
    const operations = Array.from({ length: MAX_PATCH_OPERATIONS + 1 }, () => ({ op: 'replace', path: 'active', value: true }));
    expectScimError(await measured('PATCH', `/Users/${userIds[0]}`, patchOf(operations)), 400, 'invalidValue', /1001 Operations; at most 1000/);
  });
});

describe('projection', () => {
  test(`.search with ${MAX_ATTRIBUTE_NAMES} attribute names over a page of ${USERS}`, async () => {
    const reply = await measured('POST', '/Users/.search', wideProjectionSearch(USERS));
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.text);
    expect(body.itemsPerPage).toBe(USERS);
    expect(Object.keys(body.Resources[0]).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);
  });

  test(`${MAX_ATTRIBUTE_NAMES + 1} attribute names are a 400`, async () => {
    const search = wideProjectionSearch(10);
    const attributes = [...(search.attributes as string[]), 'displayName'];
    expectScimError(await measured('POST', '/Users/.search', { ...search, attributes }), 400, 'invalidValue', /101 attributes; at most 100/);
    expectScimError(await measured('GET', `/Groups?excludedAttributes=${attributes.map(encodeURIComponent).join(',')}`), 400, 'invalidValue', /at most 100/);
  });
});

describe('ids', () => {
  test('a member value that names another key is a 400, and lists keep working', async () => {
    const alias = `${userIds[1]}:groups`;
    expectScimError(await measured('POST', '/Groups', groupBody('alias', [alias])), 400, 'invalidValue', /not a user id of this server/);
    const group = JSON.parse((await send(server.origin, server.token, 'POST', '/Groups', groupBody('alias target'))).text);
    expectScimError(await measured('PATCH', `/Groups/${group.id}`, patchOf([{ op: 'add', path: 'members', value: [{ value: alias }] }])), 400, 'invalidValue', /not a user id/);
    expect((await measured('GET', '/Groups')).status).toBe(200);
    expect((await measured('GET', `/Groups?filter=${encodeURIComponent('displayName eq "alias target"')}`)).status).toBe(200);
  });

  test('a member stored by an earlier version under an aliasing value is skipped, not a 500', async () => {
    const group = JSON.parse((await send(server.origin, server.token, 'POST', '/Groups', groupBody('legacy alias', [userIds[2]]))).text);
    const redis = new Redis(server.config.redis.url);
    await redis.sadd(new StoreKeys(server.config.redis.prefix).members(group.id), `${userIds[2]}:groups`);
    redis.disconnect();
    const reply = await measured('GET', `/Groups/${group.id}`);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text).members.map((m: { value: string }) => m.value)).toEqual([userIds[2]]);
    expect((await measured('GET', '/Groups')).status).toBe(200);
  });

  test('a path id this server could not have issued is a 404 before any lookup', async () => {
    for (const id of [`${userIds[0]}:groups`, 'seq', '*', 'x'.repeat(5_000)]) {
      expectScimError(await measured('GET', `/Users/${encodeURIComponent(id)}`), 404, undefined, /not an id this server issues/);
    }
  });
});

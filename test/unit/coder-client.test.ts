import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoderClient, emailSearchTerm } from '../../src/coder/client';
import { CoderApiError, CoderNetworkError, isRateLimited, isTransient } from '../../src/coder/errors';
import { parseRetryAfter, type CallInfo } from '../../src/coder/transport';
import type { User } from '../../src/coder/types';
import { backoffDelay } from '../../src/model/backoff';

/** A canned Coder: each test installs a handler; every request is recorded. */
interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (req: Recorded, res: ServerResponse) => void;

const TOKEN = 'abcdefghij-0123456789012345678901';
let server: Server;
let baseUrl: string;
let handler: Handler;
let requests: Recorded[];
let calls: CallInfo[];
let client: CoderClient;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

function makeUser(n: number): User {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    username: `user${String(n).padStart(3, '0')}`,
    name: `User ${n}`,
    email: `user${n}@example.com`,
    avatar_url: '',
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
    last_seen_at: '2025-01-01T00:00:00Z',
    status: 'active',
    login_type: 'oidc',
    organization_ids: [],
    roles: [],
  };
}

function newClient(overrides: Partial<ConstructorParameters<typeof CoderClient>[0]> = {}): CoderClient {
  return new CoderClient({
    url: baseUrl,
    token: TOKEN,
    timeoutMs: 2_000,
    backoff: { baseMs: 1, capMs: 5 },
    onCall: (info) => calls.push(info),
    ...overrides,
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(recorded);
      handler(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  calls = [];
  client = newClient();
});

afterEach(() => client.close());

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('requests', () => {
  test('sends the session token, Accept, and the bypass header only when enabled', async () => {
    handler = (_req, res) => json(res, 200, { version: 'v2.20.0', external_url: 'https://c' });
    await client.buildInfo();
    const bypassing = newClient({ bypassRateLimit: true });
    await bypassing.buildInfo();
    await bypassing.close();

    expect(requests[0].headers['coder-session-token']).toBe(TOKEN);
    expect(requests[0].headers.accept).toBe('application/json');
    expect(requests[0].headers['x-coder-bypass-ratelimit']).toBeUndefined();
    expect(requests[1].headers['x-coder-bypass-ratelimit']).toBe('true');
  });

  test('encodes path parameters and reports the templated route to onCall', async () => {
    handler = (_req, res) => json(res, 200, makeUser(1));
    await client.user('a/b c');
    expect(requests[0].url).toBe('/api/v2/users/a%2Fb%20c');
    expect(calls).toEqual([{ method: 'GET', route: 'GET /api/v2/users/{user}', status: 200, durationMs: expect.any(Number) }]);
  });

  test('sends JSON bodies on writes', async () => {
    handler = (_req, res) => json(res, 200, { id: 'g1', name: 'eng', members: [] });
    await client.patchGroup('g1', { add_users: ['u1'], remove_users: ['u2'] });
    expect(requests[0]).toMatchObject({ method: 'PATCH', url: '/api/v2/groups/g1' });
    expect(requests[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(requests[0].body)).toEqual({ add_users: ['u1'], remove_users: ['u2'] });
  });

  test("a group PATCH's answer is not parsed: not even a body that is not JSON fails it", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"members": [ cut');
    };
    await expect(client.patchGroup('g1', { add_users: ['u1'], remove_users: [] })).resolves.toBeUndefined();
  });

  test('a group PATCH answer of many megabytes is cut off unread, and the next call still works', async () => {
    const big = JSON.stringify({ id: 'g1', name: 'eng', members: Array.from({ length: 20_000 }, (_, i) => makeUser(i)) });
    handler = (req, res) => (req.method === 'PATCH' ? (res.writeHead(200, { 'content-type': 'application/json' }), res.end(big)) : json(res, 200, makeUser(1)));
    await expect(client.patchGroup('g1', { add_users: ['u1'], remove_users: [] })).resolves.toBeUndefined();
    expect(big.length).toBeGreaterThan(5_000_000);
    await expect(client.user('user001')).resolves.toMatchObject({ username: 'user001' });
  });

  test('a group is read for its fields and member ids only, streamed', async () => {
    const members = [makeUser(1), makeUser(2)];
    handler = (_req, res) => json(res, 200, { id: 'g1', name: 'eng', display_name: 'Eng "quoted"', organization_id: 'o1', members, total_member_count: 2, quota_allowance: 7 });
    await expect(client.groupSummary('g1')).resolves.toEqual({
      id: 'g1',
      name: 'eng',
      display_name: 'Eng "quoted"',
      organization_id: 'o1',
      avatar_url: '',
      quota_allowance: 7,
      memberIds: members.map((m) => m.id),
    });
  });

  test('keeps a path prefix of the base URL', async () => {
    const prefixed = newClient({ url: `${baseUrl}/coder/` });
    handler = (_req, res) => json(res, 200, []);
    await prefixed.organizations();
    await prefixed.close();
    expect(requests[0].url).toBe('/coder/api/v2/organizations');
  });
});

describe('errors', () => {
  test('parses Coder error bodies into CoderApiError fields', async () => {
    handler = (_req, res) =>
      json(res, 409, {
        message: 'A user with this username already exists.',
        validations: [{ field: 'username', detail: 'This username is already in use.' }],
      });
    const err = await rejection(client.updateProfile('u1', { username: 'taken', name: 'X' }));
    expect(err).toBeInstanceOf(CoderApiError);
    expect(err).toMatchObject({
      code: 'coder_http',
      status: 409,
      message: 'A user with this username already exists.',
      validations: [{ field: 'username', detail: 'This username is already in use.' }],
      method: 'PUT',
      route: 'PUT /api/v2/users/{user}/profile',
    });
    expect(isTransient(err)).toBe(false);
  });

  test('tolerates a plain-text error body (the 428 from the bypass header)', async () => {
    handler = (_req, res) => {
      res.writeHead(428, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('"X-Coder-Bypass-Ratelimit" provided but user is not owner\n');
    };
    const err = await rejection(client.me());
    expect(err).toMatchObject({ status: 428, message: '"X-Coder-Bypass-Ratelimit" provided but user is not owner' });
  });

  test('never puts the token in an error, even if the server echoes it', async () => {
    handler = (req, res) =>
      json(res, 401, {
        message: 'You are signed out or your session has expired. Please sign in again to continue.',
        detail: `API key ${String(req.headers['coder-session-token'])} is invalid.`,
      });
    const err = (await rejection(client.me())) as CoderApiError;
    expect(err.status).toBe(401);
    expect(err.detail).toBe('API key [redacted] is invalid.');
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(TOKEN);
  });

  test('429 carries retryAfterMs from Retry-After and is not retried', async () => {
    handler = (_req, res) =>
      json(res, 429, { message: "You've been rate limited for sending more than 512 requests in 1m0s." }, { 'retry-after': '7' });
    const err = await rejection(client.listUsers());
    expect(isRateLimited(err)).toBe(true);
    expect(isTransient(err)).toBe(true);
    expect((err as CoderApiError).retryAfterMs).toBe(7_000);
    expect(requests).toHaveLength(1);
  });

  test('429 without Retry-After waits for Coder\'s one-minute window', async () => {
    handler = (_req, res) => json(res, 429, { message: "You've been rate limited for sending too many requests!" });
    await expect(client.me()).rejects.toMatchObject({ status: 429, retryAfterMs: 60_000 });
  });

  test('a timeout becomes CoderNetworkError with timedOut', async () => {
    handler = () => undefined; // never answers
    const slow = newClient({ timeoutMs: 100, retries: 0 });
    const err = await rejection(slow.buildInfo());
    await slow.close();
    expect(err).toBeInstanceOf(CoderNetworkError);
    expect(err).toMatchObject({ code: 'coder_network', timedOut: true, route: 'GET /api/v2/buildinfo' });
    expect(isTransient(err)).toBe(true);
    expect(calls.at(-1)?.status).toBe(0);
  });

  test('a refused connection becomes CoderNetworkError without timedOut', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = newClient({ url: `http://127.0.0.1:${port}`, retries: 0 });
    const err = await rejection(unreachable.me());
    await unreachable.close();
    expect(err).toMatchObject({ code: 'coder_network', timedOut: false });
    expect((err as Error).message).toContain('ECONNREFUSED');
  });
});

describe('retries', () => {
  test('a GET is retried on 503 and then succeeds', async () => {
    let failures = 2;
    handler = (_req, res) => (failures-- > 0 ? json(res, 503, { message: 'unavailable' }) : json(res, 200, []));
    await expect(client.organizations()).resolves.toEqual([]);
    expect(requests).toHaveLength(3);
    expect(calls.map((c) => c.status)).toEqual([503, 503, 200]);
  });

  test('a GET gives up after the configured retries', async () => {
    handler = (_req, res) => json(res, 502, { message: 'bad gateway' });
    const once = newClient({ retries: 1 });
    const err = await rejection(once.organizations());
    await once.close();
    expect(err).toMatchObject({ status: 502 });
    expect(requests).toHaveLength(2);
  });

  test('a GET is not retried on a permanent 4xx', async () => {
    handler = (_req, res) => json(res, 403, { message: 'Forbidden.' });
    await expect(client.entitlements()).rejects.toMatchObject({ status: 403 });
    expect(requests).toHaveLength(1);
  });

  test('a POST is not retried on 500', async () => {
    handler = (_req, res) => json(res, 500, { message: 'An internal server error occurred.', detail: 'boom' });
    const err = await rejection(
      client.createUser({ email: 'a@b.c', username: 'a', login_type: 'oidc', organization_ids: ['00000000-0000-0000-0000-000000000000'] }),
    );
    expect(err).toMatchObject({ status: 500, detail: 'boom', method: 'POST' });
    expect(requests).toHaveLength(1);
  });
});

describe('lookups that may find nothing', () => {
  test('an unknown user (400 from Coder) is null', async () => {
    handler = (_req, res) =>
      json(res, 400, { message: '"user" must be an existing uuid or username.', detail: 'queried user="ghost"' });
    await expect(client.user('ghost')).resolves.toBeNull();
  });

  test('any other 400 on a user lookup still throws', async () => {
    handler = (_req, res) => json(res, 400, { message: '"user" must be provided.' });
    await expect(client.user('x')).rejects.toBeInstanceOf(CoderApiError);
  });

  test('an unknown group is null by id and by name', async () => {
    handler = (_req, res) => json(res, 404, { message: 'Resource not found or you do not have access to this resource' });
    await expect(client.group('00000000-0000-4000-8000-000000000001')).resolves.toBeNull();
    await expect(client.groupSummaryByName('org', 'nope')).resolves.toBeNull();
    expect(requests.map((r) => r.url)).toEqual([
      '/api/v2/groups/00000000-0000-4000-8000-000000000001',
      '/api/v2/organizations/org/groups/nope',
    ]);
  });

  test('adding an existing org member is success', async () => {
    handler = (_req, res) => json(res, 400, { message: 'Organization member already exists in this organization' });
    await expect(client.addOrgMember('org', 'u1')).resolves.toEqual({ alreadyMember: true });
    expect(requests[0]).toMatchObject({ method: 'POST', url: '/api/v2/organizations/org/members/u1' });
  });

  test('other org member errors still throw', async () => {
    handler = (_req, res) => json(res, 400, { message: 'Organization sync is enabled for OIDC users, ...' });
    await expect(client.addOrgMember('org', 'u1')).rejects.toMatchObject({ status: 400 });
  });
});

describe('paging', () => {
  const all = Array.from({ length: 7 }, (_, i) => makeUser(i + 1));

  /** Mimics Coder: order by username, after_id is a cursor, limit 0 or absent means all. */
  function usersEndpoint(req: Recorded, res: ServerResponse): void {
    const query = new URL(req.url, 'http://x').searchParams;
    const afterId = query.get('after_id');
    const limit = Number(query.get('limit') ?? 0);
    const after = afterId ? all.find((u) => u.id === afterId)!.username : '';
    const matching = all.filter((u) => u.username > after);
    json(res, 200, { users: limit ? matching.slice(0, limit) : matching, count: matching.length });
  }

  test('iterateUsers walks every page with after_id', async () => {
    handler = usersEndpoint;
    const seen: string[] = [];
    for await (const user of client.iterateUsers(3)) seen.push(user.username);
    expect(seen).toEqual(all.map((u) => u.username));
    expect(requests.map((r) => new URL(r.url, 'http://x').searchParams.get('after_id'))).toEqual([null, all[2].id, all[5].id]);
  });

  test('iterateUsers ends with one extra empty page when the total divides evenly', async () => {
    handler = usersEndpoint;
    const seen: User[] = [];
    for await (const user of client.iterateUsers(7)) seen.push(user);
    expect(seen).toHaveLength(7);
    expect(requests).toHaveLength(2);
  });

  test('orgMembers reads every page with limit and offset', async () => {
    const members = Array.from({ length: 5 }, (_, i) => ({ user_id: `u${i}`, username: `m${i}` }));
    handler = (req, res) => {
      const query = new URL(req.url, 'http://x').searchParams;
      const offset = Number(query.get('offset'));
      json(res, 200, { members: members.slice(offset, offset + Number(query.get('limit'))), count: members.length });
    };
    const result = await client.orgMembers('org', 2);
    expect(result.map((m) => m.user_id)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
    expect(requests.map((r) => r.url)).toEqual([
      '/api/v2/organizations/org/paginated-members?limit=2&offset=0',
      '/api/v2/organizations/org/paginated-members?limit=2&offset=2',
      '/api/v2/organizations/org/paginated-members?limit=2&offset=4',
    ]);
  });
});

describe('findUsersByEmail', () => {
  test('searches the bare term and keeps only the whole, case-insensitive matches', async () => {
    const exact = { ...makeUser(1), email: 'Ann@Example.com' };
    const longer = { ...makeUser(2), email: 'joann@example.com.au' };
    handler = (_req, res) => json(res, 200, { users: [longer, exact], count: 2 });
    await expect(client.findUsersByEmail('ann@example.COM')).resolves.toEqual([exact]);
    expect(new URL(requests[0].url, 'http://x').searchParams.get('q')).toBe('ann@example.COM');
  });

  test('keeps an address equal only under Unicode lower-casing (the caller refuses to adopt it)', async () => {
    const kate = { ...makeUser(1), email: 'kate@example.com' };
    handler = (_req, res) => json(res, 200, { users: [kate], count: 1 });
    await expect(client.findUsersByEmail('\u212Aate@example.com')).resolves.toEqual([kate]);
  });

  test('is empty when only partial matches come back', async () => {
    handler = (_req, res) => json(res, 200, { users: [{ ...makeUser(2), email: 'joann@example.com' }], count: 1 });
    await expect(client.findUsersByEmail('ann@example.com')).resolves.toEqual([]);
  });

  test('search term avoids Coder query syntax by using the longest plain fragment', () => {
    expect(emailSearchTerm('plain@example.com')).toBe('plain@example.com');
    expect(emailSearchTerm('"odd:local"@example.org')).toBe('@example.org');
  });
});

describe('backoff', () => {
  test('backoffDelay stays within [0, min(cap, base * 2^attempt))', () => {
    const options = { baseMs: 100, capMs: 1_000 };
    for (let attempt = 0; attempt < 8; attempt++) {
      const ceiling = Math.min(1_000, 100 * 2 ** attempt);
      expect(backoffDelay(attempt, options, () => 0)).toBe(0);
      const highest = backoffDelay(attempt, options, () => 0.999999);
      expect(highest).toBeLessThan(ceiling);
      expect(highest).toBeGreaterThanOrEqual(ceiling - 1);
    }
  });

  test('backoffDelay spreads with the random source (full jitter)', () => {
    const randoms = [0.1, 0.5, 0.9];
    const values = randoms.map((r) => backoffDelay(3, { baseMs: 100, capMs: 10_000 }, () => r));
    expect(values).toEqual(randoms.map((r) => Math.floor(r * 100 * 2 ** 3)));
  });

  test('parseRetryAfter reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('60')).toBe(60_000);
    expect(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000)).toBe(5_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

/** Cross-cutting behaviour of the Coder simulator: headers, auth, rate limiting, fault switches, call counts. */
import { request } from 'undici';
import { startCoderSim, type CoderSim } from './index';
import { api, createUser } from './helpers';

let sim: CoderSim;
beforeAll(async () => {
  sim = await startCoderSim();
});
afterAll(async () => {
  await sim.close();
});

const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';

/** Deterministic RNG that replays `seq` then repeats its last value. */
const replay = (seq: number[]) => {
  let i = 0;
  return () => seq[Math.min(i++, seq.length - 1)];
};
/** mulberry32 seeded PRNG. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

describe('response conventions', () => {
  test('headers, trailing newline, Go HTML escaping', async () => {
    const r = await api(sim, 'POST', '/users', {
      username: 'escape-me',
      email: 'escape@example.com',
      name: 'A<B>&C',
      login_type: 'oidc',
      organization_ids: [sim.defaultOrgId],
    });
    expect(r.status).toBe(201);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['x-coder-build-version']).toMatch(/^v2\./);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.raw).toContain('"name":"A\\u003cB\\u003e\\u0026C"');
    expect(r.raw.endsWith('\n')).toBe(true);
    expect(r.body.name).toBe('A<B>&C');
  });

  test('unknown /api/v2 route → 404 Route not found (even without a token); wrong method → 405', async () => {
    const r = await api(sim, 'GET', '/no/such/route', undefined, { token: null });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ message: 'Route not found.' });
    expect((await api(sim, 'POST', '/buildinfo', {})).status).toBe(405);
  });

  test('buildinfo and entitlements are public; user_limit.actual counts active users', async () => {
    const b = await api(sim, 'GET', '/buildinfo', undefined, { token: null });
    expect(b.status).toBe(200);
    expect(b.body.version).toBe(b.headers['x-coder-build-version']);
    const e = await api(sim, 'GET', '/entitlements', undefined, { token: null });
    expect(e.body.has_license).toBe(true);
    const active = sim.users().filter((u) => u.status === 'active').length;
    expect(e.body.features.user_limit).toEqual({ entitlement: 'entitled', enabled: true, actual: active });
    expect(e.body.features.template_rbac).toEqual({ entitlement: 'entitled', enabled: true });
  });
});

describe('authentication', () => {
  test.each([
    [null, 'Cookie "coder_session_token" or query parameter must be provided.'],
    ['abc', 'Invalid API key format: incorrect amount of API key parts, expected 2 got 1'],
    ['a-b-c', 'Invalid API key format: incorrect amount of API key parts, expected 2 got 3'],
    ['abc-0123456789012345678901', 'Invalid API key format: invalid API key ID length, expected 10 got 3'],
    ['abcdefghij-short', 'Invalid API key format: invalid API key secret length, expected 22 got 5'],
    ['zzzzzzzzzz-0123456789012345678901', 'API key is invalid.'],
  ])('token %p → 401 %s', async (token, detail) => {
    const r = await api(sim, 'GET', '/users/me', undefined, { token });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ message: SIGNED_OUT, detail });
  });

  test('wrong secret', async () => {
    const [id] = sim.token.split('-');
    const r = await api(sim, 'GET', '/users/me', undefined, { token: `${id}-0123456789012345678901` });
    expect(r.body).toEqual({ message: SIGNED_OUT, detail: 'API key secret is invalid.' });
  });

  test('token format matches <10>-<22>; cookie and query parameter also work', async () => {
    expect(sim.token).toMatch(/^[A-Za-z0-9]{10}-[A-Za-z0-9]{22}$/);
    const cookie = await api(sim, 'GET', '/users/me', undefined, { token: null, headers: { Cookie: `coder_session_token=${sim.token}` } });
    expect(cookie.body.id).toBe(sim.ownerId);
    const q = await api(sim, 'GET', `/users/me?coder_session_token=${sim.token}`, undefined, { token: null });
    expect(q.body.id).toBe(sim.ownerId);
  });

  test('suspended token owner → 401; dormant owner is activated by any authenticated request', async () => {
    const u = await createUser(sim, 'auth-dormant');
    expect(u.status).toBe('dormant');
    const tok = sim.direct.createToken(u.id);
    const me = await api(sim, 'GET', '/users/me', undefined, { token: tok });
    expect(me.status).toBe(200);
    expect(me.body.status).toBe('active');
    expect(sim.users().find((x) => x.id === u.id)?.status).toBe('active');

    sim.direct.setUserStatus(u.id, 'suspended');
    const r = await api(sim, 'GET', '/users/me', undefined, { token: tok });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ message: 'User is not active (status = "suspended"). Contact an admin to reactivate your account.' });
  });

  test('an expired or revoked token → 401 with its own detail; a new token works', async () => {
    const u = await createUser(sim, 'auth-rotated');
    sim.direct.setUserRoles(u.id, ['owner']);
    const expiring = sim.direct.createToken(u.id);
    expect((await api(sim, 'GET', '/users/me', undefined, { token: expiring })).status).toBe(200);
    sim.direct.expireToken(expiring);
    const expired = await api(sim, 'GET', '/users/me', undefined, { token: expiring });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toBe(SIGNED_OUT);
    expect(expired.body.detail).toMatch(/^API key expired at "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC"\.$/);

    const revoked = sim.direct.createToken(u.id);
    sim.direct.revokeToken(revoked);
    const r = await api(sim, 'POST', '/users', { username: 'x', email: 'x@example.com', login_type: 'none' }, { token: revoked });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ message: SIGNED_OUT, detail: 'API key is invalid.' });
    expect(sim.users().some((x) => x.username === 'x')).toBe(false);
    expect((await api(sim, 'GET', '/users/me', undefined, { token: sim.direct.createToken(u.id) })).status).toBe(200);
  });

  test('a user whose owner role is taken away gets 403 Forbidden on writes, 200 on reads', async () => {
    const u = await createUser(sim, 'auth-demoted');
    sim.direct.setUserRoles(u.id, ['owner']);
    const tok = sim.direct.createToken(u.id);
    const victim = await createUser(sim, 'auth-demoted-victim');
    expect((await api(sim, 'PUT', `/users/${victim.id}/status/suspend`, undefined, { token: tok })).status).toBe(200);
    sim.direct.setUserRoles(u.id, []);
    const r = await api(sim, 'PUT', `/users/${victim.id}/status/activate`, undefined, { token: tok });
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('Forbidden.');
    expect((await api(sim, 'GET', '/users/me', undefined, { token: tok })).status).toBe(200);
  });

  test('non-owner writes are forbidden with the canned body', async () => {
    const u = await createUser(sim, 'auth-member');
    const tok = sim.direct.createToken(u.id);
    const other = await createUser(sim, 'auth-victim');
    const r = await api(sim, 'PUT', `/users/${other.id}/status/suspend`, undefined, { token: tok });
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('Forbidden.');
    expect(sim.users().find((x) => x.id === other.id)?.status).toBe('dormant');
  });
});

describe('rate limiting', () => {
  afterEach(() => sim.setOptions({ rateLimitPerMinute: 0 }));

  test('disabled by default: no X-RateLimit headers', async () => {
    const r = await api(sim, 'GET', '/users/me');
    expect(r.headers['x-ratelimit-limit']).toBeUndefined();
  });

  test('per (user, path) budget, headers, 429 with Retry-After and message', async () => {
    sim.setOptions({ rateLimitPerMinute: 5 });
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await api(sim, 'GET', '/users/me');
      expect(r.status).toBe(200);
      expect(r.headers['x-ratelimit-limit']).toBe('5');
      const reset = Number(r.headers['x-ratelimit-reset']);
      expect(reset % 60).toBe(0);
      expect(reset * 1000).toBeGreaterThan(Date.now());
      expect(reset * 1000).toBeLessThanOrEqual(Date.now() + 60_000);
      remaining.push(String(r.headers['x-ratelimit-remaining']));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    expect(sim.rateLimitedCalls()).toBe(0);
    sim.resetCalls();
    const limited = await api(sim, 'GET', '/users/me');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('60');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.body).toEqual({ message: "You've been rate limited for sending more than 5 requests in 1m0s." });
    expect(sim.calls()['GET /api/v2/users/{user}']).toBe(1);
    expect(sim.rateLimitedCalls()).toBe(1);

    // another path has its own budget
    expect((await api(sim, 'GET', `/users/${sim.ownerId}`)).status).toBe(200);
    // another user has its own budget on the same path
    const u = await createUser(sim, 'rl-member');
    const tok = sim.direct.createToken(u.id);
    expect((await api(sim, 'GET', '/users/me', undefined, { token: tok })).status).toBe(200);
    // owners may bypass
    const bypass = await api(sim, 'GET', '/users/me', undefined, { headers: { 'X-Coder-Bypass-Ratelimit': 'true' } });
    expect(bypass.status).toBe(200);
    // non-owners get 428 in plain text
    const denied = await api(sim, 'GET', '/users/me', undefined, { token: tok, headers: { 'X-Coder-Bypass-Ratelimit': 'true' } });
    expect(denied.status).toBe(428);
    expect(denied.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(denied.raw).toBe('"X-Coder-Bypass-Ratelimit" provided but user is not owner\n');
  });

  test('unauthenticated requests are limited by IP + path', async () => {
    sim.setOptions({ rateLimitPerMinute: 2 });
    expect((await api(sim, 'GET', '/buildinfo', undefined, { token: null })).status).toBe(200);
    expect((await api(sim, 'GET', '/buildinfo', undefined, { token: null })).status).toBe(200);
    expect((await api(sim, 'GET', '/buildinfo', undefined, { token: null })).status).toBe(429);
    // an authenticated user has a separate key
    expect((await api(sim, 'GET', '/buildinfo')).status).toBe(200);
  });
});

describe('fault switches', () => {
  afterEach(() => sim.setOptions({ latencyMs: 0, writeFailureRate: 0, outage: false, random: Math.random }));

  test('latency applies to every request and can be switched off', async () => {
    // Far apart, so that a machine busy with other test files cannot blur the two.
    sim.setOptions({ latencyMs: 600 });
    let t = Date.now();
    expect((await api(sim, 'GET', '/users/me')).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(590);
    sim.setOptions({ latencyMs: 0 });
    t = Date.now();
    await api(sim, 'GET', '/users/me');
    expect(Date.now() - t).toBeLessThan(400);
  });

  test('write failure modes chosen by the RNG: 500 without applying, drop after applying, drop without applying', async () => {
    const body = (n: string) => ({ username: n, email: `${n}@example.com`, login_type: 'oidc', organization_ids: [sim.defaultOrgId] });
    sim.setOptions({ writeFailureRate: 0.5, random: replay([0.4, 0.2]) });
    const r500 = await api(sim, 'POST', '/users', body('fail-500'));
    expect(r500.status).toBe(500);
    expect(r500.body).toEqual({ message: 'An internal server error occurred.', detail: 'simulated failure' });
    expect(sim.users().some((u) => u.username === 'fail-500')).toBe(false);

    sim.setOptions({ random: replay([0.4, 0.7, 0.3]) });
    await expect(api(sim, 'POST', '/users', body('fail-applied'))).rejects.toThrow();
    expect(sim.users().some((u) => u.username === 'fail-applied')).toBe(true);

    sim.setOptions({ random: replay([0.4, 0.7, 0.7]) });
    await expect(api(sim, 'POST', '/users', body('fail-lost'))).rejects.toThrow();
    expect(sim.users().some((u) => u.username === 'fail-lost')).toBe(false);

    // above the rate: no failure; reads never fail
    sim.setOptions({ random: replay([0.6]) });
    expect((await api(sim, 'POST', '/users', body('fail-none'))).status).toBe(201);
    sim.setOptions({ writeFailureRate: 1, random: replay([0]) });
    expect((await api(sim, 'GET', '/users/me')).status).toBe(200);
  });

  test('writes fail at roughly the configured rate', async () => {
    const u = await createUser(sim, 'rate-target');
    sim.setOptions({ writeFailureRate: 0.3, random: seeded(42) });
    const before = sim.writeCalls();
    let okCount = 0;
    for (let i = 0; i < 200; i++) {
      try {
        const r = await api(sim, 'PUT', `/users/${u.id}/status/activate`);
        if (r.status === 200) okCount++;
        else expect(r.status).toBe(500);
      } catch {
        // dropped connection
      }
    }
    const sent = sim.writeCalls() - before;
    const failRate = 1 - okCount / sent;
    expect(sent).toBeGreaterThanOrEqual(200);
    expect(failRate).toBeGreaterThan(0.2);
    expect(failRate).toBeLessThan(0.4);
  });

  test('outage: 503 or dropped connection for every request, then recovery', async () => {
    sim.setOptions({ outage: true, random: () => 0 });
    const r = await api(sim, 'GET', '/buildinfo', undefined, { token: null });
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ message: 'simulated outage' });
    expect((await api(sim, 'GET', '/users/me')).status).toBe(503);
    sim.setOptions({ random: () => 0.9 });
    await expect(api(sim, 'GET', '/users/me')).rejects.toThrow();
    sim.setOptions({ outage: false });
    expect((await api(sim, 'GET', '/users/me')).status).toBe(200);
  });
});

describe('call accounting', () => {
  test('counts by route template including failures; writeCalls; reset', async () => {
    const u = await createUser(sim, 'count-user');
    sim.resetCalls();
    await api(sim, 'GET', `/users/${u.id}`);
    await api(sim, 'GET', '/users/count-user');
    await api(sim, 'GET', '/users/nobody-at-all');
    await api(sim, 'PUT', `/users/${u.id}/status/suspend`);
    const g = await api(sim, 'POST', `/organizations/${sim.defaultOrgId}/groups`, { name: 'count-grp' });
    await api(sim, 'PATCH', `/groups/${g.body.id}`, { add_users: [u.id] });
    await api(sim, 'PATCH', `/groups/${g.body.id}`, { add_users: [u.id] });
    expect(sim.calls()).toEqual({
      'GET /api/v2/users/{user}': 3,
      'PUT /api/v2/users/{user}/status/suspend': 1,
      'POST /api/v2/organizations/{org}/groups': 1,
      'PATCH /api/v2/groups/{group}': 2,
    });
    expect(sim.writeCalls()).toBe(4);
    sim.resetCalls();
    expect(sim.calls()).toEqual({});
    expect(sim.writeCalls()).toBe(0);
  });

  test('direct manipulation is not counted and bypasses failure injection', async () => {
    sim.resetCalls();
    sim.setOptions({ writeFailureRate: 1, random: () => 0 });
    try {
      const u = sim.direct.createUser({ username: 'direct-user', email: 'direct@example.com' });
      const g = sim.direct.createGroup({ name: 'direct-grp' });
      sim.direct.addGroupMember(g.id, u.id);
      sim.direct.renameGroup(g.id, 'direct-renamed');
      expect(sim.groups().find((x) => x.id === g.id)).toMatchObject({ name: 'direct-renamed', members: new Set([u.id]) });
      sim.direct.removeGroupMember(g.id, u.id);
      sim.direct.deleteGroup(g.id);
      sim.direct.deleteUser(u.id);
      expect(sim.users().some((x) => x.id === u.id)).toBe(false);
    } finally {
      sim.setOptions({ writeFailureRate: 0, random: Math.random });
    }
    expect(sim.calls()).toEqual({});
    expect(sim.writeCalls()).toBe(0);
  });
});

test('close() stops the server', async () => {
  const other = await startCoderSim();
  await other.close();
  await expect(request(`${other.url}/api/v2/buildinfo`)).rejects.toThrow();
});

test('userCount counts the users that are not deleted, as users() lists them', async () => {
  const sim = await startCoderSim();
  try {
    const kept = sim.direct.createUser({ username: 'count-kept', email: 'count-kept@example.com' });
    const gone = sim.direct.createUser({ username: 'count-gone', email: 'count-gone@example.com' });
    sim.direct.deleteUser(gone.id);
    expect(sim.userCount()).toBe(sim.users().length);
    expect(sim.users().map((u) => u.id)).toContain(kept.id);
    expect(sim.userCount()).toBe(2); // the owner and count-kept
  } finally {
    await sim.close();
  }
});

import { Writable } from 'node:stream';
import { request } from 'undici';
import { createLogger } from '../../src/log';
import { oktaUser, startE2E, type E2E } from '../e2e/harness';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * Every endpoint but /healthz and /readyz needs its own token; a SCIM token does not open /admin; failed
 * authentication is rate-limited per address (never refusing a valid token) and logged without the token; and the whole log of a run,
 * at trace level and with Coder failing, holds no token, password or session token.
 */

const lines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(chunk.toString('utf8'));
    done();
  },
});

const PASSWORD = 'Correct-Horse-Battery-9137';
let e2e: E2E;
beforeAll(async () => {
  e2e = await startE2E({ sim: { writeFailureRate: 0.3 }, env: { LOG_LEVEL: 'trace' }, logger: createLogger('trace', capture) });
});
afterAll(() => e2e?.close());

async function get(path: string, token?: string): Promise<number> {
  const reply = await request(`${e2e.bridge.origin}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await reply.body.dump();
  return reply.statusCode;
}

const SCIM_PATHS = ['/scim/v2/Users', '/scim/v2/Groups', '/scim/v2/Users/x', '/scim/v2/ServiceProviderConfig', '/scim/v2/ResourceTypes', '/scim/v2/Schemas'];
const ADMIN_PATHS = ['/admin/status', '/admin/resync/x', '/admin/resources/Users/x', '/metrics'];

test('health endpoints are open, everything else needs its own token', async () => {
  expect(await get('/healthz')).toBe(200);
  expect([200, 503]).toContain(await get('/readyz'));
  for (const path of [...SCIM_PATHS, ...ADMIN_PATHS]) expect([path, await get(path)]).toEqual([path, 401]);
  for (const path of ADMIN_PATHS) expect([path, await get(path, e2e.scimToken)]).toEqual([path, 401]);
  for (const path of SCIM_PATHS.filter((p) => !p.endsWith('/x'))) expect([path, await get(path, e2e.adminToken)]).toEqual([path, 401]);
  for (const path of SCIM_PATHS.filter((p) => !p.endsWith('/x'))) expect([path, await get(path, e2e.scimToken)]).toEqual([path, 200]);
  expect(await get('/admin/status', e2e.adminToken)).toBe(200);
});

test('a full provisioning run logs no token, password or session token', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const reply = await e2e.scim('POST', '/Users', oktaUser(`secret.user${i}@example.com`, 'Secret', `User${i}`, { password: PASSWORD }));
    expect(reply.status).toBe(201);
    ids.push(reply.body.id);
  }
  await e2e.scim('PUT', `/Users/${ids[0]}`, { ...oktaUser('secret.user0@example.com', 'Secret', 'Renamed', { password: PASSWORD }), id: ids[0] });
  await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Secret Team', members: ids.map((value) => ({ value })) });
  await e2e.admin('POST', '/resync', {});
  // 30% of Coder writes fail: a user whose create fails four times in a row waits 1 + 2 + 4 + 8 s in backoff
  // before its group can take it in (one of the 20 does, about one run in seven), more on a loaded CI machine.
  await e2e.waitForConvergence(75_000);
  const log = lines.join('');
  expect(log).toContain('"event":"reconcile"');
  for (const secret of [e2e.scimToken, e2e.adminToken, e2e.sim.token, PASSWORD]) expect(log).not.toContain(secret);
}, 100_000);

test('failed authentication is rate-limited per address, never refuses the valid token, and is logged without the presented token', async () => {
  const guess = `guess-${'z'.repeat(24)}`;
  const statuses: number[] = [];
  for (let i = 0; i < 25; i++) statuses.push(await get('/scim/v2/Users', `${guess}${i}`));
  // The first test's wrong tokens from this address count too (its requests without a token do not):
  // 401s until 20 failures in all, then only 429s.
  const firstBlocked = statuses.indexOf(429);
  expect(firstBlocked).toBeGreaterThan(0);
  expect(statuses.slice(0, firstBlocked).every((status) => status === 401)).toBe(true);
  expect(statuses.slice(firstBlocked).every((status) => status === 429)).toBe(true);
  // The IdP shares that address (behind an ingress, everyone does): its valid token still gets in.
  expect(await get('/scim/v2/Users', e2e.scimToken)).toBe(200);
  expect(await get('/admin/status', e2e.adminToken)).toBe(200);
  expect(await get('/scim/v2/Users', `${guess}-again`)).toBe(429);
  const log = lines.join('');
  expect(log).toContain('"event":"auth_failed"');
  expect(log).not.toContain(guess);
});

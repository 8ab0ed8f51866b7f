import { api } from '../coder-sim/helpers';
import { startE2E, type E2E } from './harness';
import { runEntraSequence, runOktaSequence } from './idp-sequences';

/**
 * The provisioning sequences against a Coder that allows 30 requests per window per path and token user.
 * Another client of the same token has just spent the budget of /api/v2/users, and Okta and Entra then provision
 * more than 30 users: Coder answers 429 with Retry-After, the worker pauses the queue for that long, and the run
 * still ends exact. The simulator's window is 10 s instead of Coder's minute (same algorithm, Retry-After 10), so
 * waiting it out takes seconds.
 */

const USERS_PER_IDP = 16;
const RATE_LIMIT_PER_WINDOW = 30;
const WINDOW_MS = 10_000;

let e2e: E2E;
beforeAll(async () => {
  // The bridge is not told of the limit (no pacing), so it runs into Coder's 429s: this is the path a limit
  // shared with other clients of the same token takes.
  e2e = await startE2E({ sim: { rateLimitPerMinute: RATE_LIMIT_PER_WINDOW, rateLimitWindowMs: WINDOW_MS }, env: { CODER_API_RATE_LIMIT: '0' } });
});
afterAll(() => e2e.close());

async function answered429(): Promise<number> {
  const { values } = await e2e.bridge.metrics!.coderRequests.get();
  return values.filter((value) => value.labels.status === '429').reduce((sum, value) => sum + value.value, 0);
}

test('Okta then Entra converge exactly under a 30-per-window rate limit another client has spent', async () => {
  const started = Date.now();
  // Coder keys the limit by path, whatever the method: these reads spend what the bridge's creates need.
  for (let i = 0; i < RATE_LIMIT_PER_WINDOW; i++) expect((await api(e2e.sim, 'GET', '/users?limit=1')).status).toBe(200);
  expect((await api(e2e.sim, 'GET', '/users?limit=1')).status).toBe(429);

  const okta = await runOktaSequence(e2e, { users: USERS_PER_IDP, tag: 'r' });
  const entra = await runEntraSequence(e2e, { users: USERS_PER_IDP, tag: 'r' });
  await e2e.waitForConvergence(60_000);

  const expected = okta.expected('suspend');
  const expectedEntra = entra.expected('suspend');
  expect(e2e.actualInCoder()).toEqual({ users: { ...expected.users, ...expectedEntra.users }, groups: { ...expected.groups, ...expectedEntra.groups } });
  const userCreates = e2e.sim.calls()['POST /api/v2/users'];
  // More creates than the limit allows in a window; Coder refused some, and the bridge waited them out.
  expect(userCreates).toBeGreaterThan(RATE_LIMIT_PER_WINDOW);
  expect(await answered429()).toBeGreaterThan(0);
  expect(Date.now() - started).toBeGreaterThanOrEqual(WINDOW_MS);
  console.log(`rate-limited run: ${okta.scimWrites + entra.scimWrites} SCIM writes, ${e2e.sim.writeCalls()} Coder writes (${userCreates} POST /api/v2/users); converged in ${Date.now() - started} ms`);
}, 90_000);

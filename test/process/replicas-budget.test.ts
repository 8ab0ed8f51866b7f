import { request } from 'undici';
import { spawnServeAndWorkers, type BridgeProcess } from '../e2e/bridge-process';
import { oktaUser, PATCH_OP, startE2E, type E2E } from '../e2e/harness';
import { waitFor } from '../wait-for';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * One `serve` and two `worker` processes on one Redis against a Coder that limits each path to 20 requests a
 * window. More users are created than the limit allows in one window, all on one path (POST /api/v2/users):
 * two workers pacing on their own would together send past the limit; sharing one budget through Redis they
 * send none too many, and every change still converges. The simulator's window is 15 s instead of Coder's
 * minute (the harness tells the bridge, CODER_API_RATE_WINDOW), so waiting for the next one takes seconds.
 */

const RATE_LIMIT = 20;
const WINDOW_MS = 15_000;
/** The budget is 95% of the limit (19): two more than fit in one window, more than the limit itself. */
const USERS = 21;
const GROUPS = 2;
const DEACTIVATED = 3;

let e2e: E2E;
let workers: BridgeProcess[] = [];

beforeAll(async () => {
  e2e = await startE2E({
    sim: { rateLimitPerMinute: RATE_LIMIT, rateLimitWindowMs: WINDOW_MS },
    launch: async (env) => {
      const split = await spawnServeAndWorkers(env, 2);
      workers = split.workers;
      return split;
    },
  });
}, 60_000);
afterAll(() => e2e.close());

/** Requests a worker sent to Coder's user-creation path, from its own metrics. */
async function userCreatesBy(worker: BridgeProcess): Promise<number> {
  const reply = await request(`${worker.origin}/metrics`, { headers: { authorization: `Bearer ${e2e.adminToken}` } });
  const text = await reply.body.text();
  const sent = text
    .split('\n')
    .filter((line) => line.startsWith('coder_scim_bridge_coder_requests_total{') && line.includes('route="POST /api/v2/users"'))
    .map((line) => Number(line.split(' ').pop()));
  return sent.reduce((sum, n) => sum + n, 0);
}

test('two workers share one Coder budget: no 429 at all, and every change converges', async () => {
  // Both workers take jobs (their Coder preflight is done) before the first change arrives.
  const ready = async (worker: BridgeProcess) => {
    const reply = await request(`${worker.origin}/readyz`);
    await reply.body.dump();
    return reply.statusCode === 200;
  };
  await waitFor(async () => (await Promise.all(workers.map(ready))).every(Boolean), 30_000, 'both workers ready');
  const users = await Promise.all(Array.from({ length: USERS }, (_, i) => e2e.scim('POST', '/Users', oktaUser(`budget${i}@example.com`, 'Budget', `User${i}`))));
  expect(users.map((u) => u.status)).toEqual(users.map(() => 201));
  const ids = users.map((u) => u.body.id as string);
  const groups = await Promise.all(
    Array.from({ length: GROUPS }, (_, g) =>
      e2e.scim('POST', '/Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: `Budget Team ${g}`,
        members: ids.filter((_, i) => i % GROUPS === g).map((value) => ({ value })),
      }),
    ),
  );
  expect(groups.map((g) => g.status)).toEqual(groups.map(() => 201));
  const deactivations = await Promise.all(
    ids.slice(0, DEACTIVATED).map((id) => e2e.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] })),
  );
  expect(deactivations.map((d) => d.status)).toEqual(deactivations.map(() => 200));

  await e2e.waitForConvergence(60_000);
  const actual = e2e.actualInCoder();
  expect(Object.keys(actual.users)).toHaveLength(USERS);
  expect(Object.values(actual.users).filter((u) => u.suspended)).toHaveLength(DEACTIVATED);
  expect(Object.values(actual.groups).map((g) => g.members.length).sort()).toEqual([10, 11]);

  expect(e2e.sim.rateLimitedCalls()).toBe(0);
  // The limit was really in play (more creates than one window allows), and both workers spent the one budget.
  expect(e2e.sim.calls()['POST /api/v2/users']).toBe(USERS);
  const perWorker = await Promise.all(workers.map(userCreatesBy));
  expect(perWorker[0] + perWorker[1]).toBe(USERS);
  for (const sent of perWorker) expect(sent).toBeGreaterThan(0);
}, 90_000);

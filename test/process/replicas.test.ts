import { request } from 'undici';
import { spawnBridge, type BridgeProcess } from '../e2e/bridge-process';
import { freePort, oktaUser, PATCH_OP, startE2E, type E2E, type ScimReply } from '../e2e/harness';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * Two `serve` and two `worker` processes on one Redis behave as one bridge: SCIM requests spread over both
 * serve replicas converge exactly, and Coder sees exactly the writes one bridge would make (no reconcile runs
 * twice, no replica's work is lost).
 */

const USERS = 16;
const GROUPS = 3;
const DEACTIVATED = 4;

let e2e: E2E;
let serves: BridgeProcess[] = [];
let workers: BridgeProcess[] = [];

beforeAll(async () => {
  e2e = await startE2E({
    launch: async (env) => {
      const ports = [env.PORT, ...(await Promise.all([freePort(), freePort(), freePort()])).map(String)];
      const [serveA, serveB, workerA, workerB] = await Promise.all([
        spawnBridge({ ...env, PORT: ports[0] }, undefined, 'serve'),
        spawnBridge({ ...env, PORT: ports[1] }, undefined, 'serve'),
        spawnBridge({ ...env, PORT: ports[2] }, undefined, 'worker'),
        spawnBridge({ ...env, PORT: ports[3] }, undefined, 'worker'),
      ]);
      serves = [serveA, serveB];
      workers = [workerA, workerB];
      return { origin: serveA.origin, close: async () => void (await Promise.all([...serves, ...workers].map((p) => p.close()))) };
    },
  });
}, 60_000);
afterAll(() => e2e.close());

/** The i-th request goes to serve replica i mod 2. */
async function scimVia(i: number, method: string, path: string, body?: unknown): Promise<ScimReply> {
  const reply = await request(`${serves[i % 2].origin}/scim/v2${path}`, {
    method: method as 'POST',
    headers: { authorization: `Bearer ${e2e.scimToken}`, 'content-type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await reply.body.text();
  return { status: reply.statusCode, headers: reply.headers, body: text ? JSON.parse(text) : undefined };
}

test('requests spread over both serve replicas converge exactly, with the Coder writes of a single bridge', async () => {
  for (const worker of workers) expect((await request(`${worker.origin}/healthz`)).statusCode).toBe(200);

  const users = await Promise.all(Array.from({ length: USERS }, (_, i) => scimVia(i, 'POST', '/Users', oktaUser(`replica${i}@example.com`, 'Replica', `User${i}`))));
  expect(users.map((u) => u.status)).toEqual(users.map(() => 201));
  const ids = users.map((u) => u.body.id as string);
  await e2e.waitForConvergence(30_000);

  const groups = await Promise.all(
    Array.from({ length: GROUPS }, (_, g) =>
      scimVia(g, 'POST', '/Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: `Replica Team ${g}`,
        members: ids.filter((_, i) => i % GROUPS === g).map((value) => ({ value })),
      }),
    ),
  );
  expect(groups.map((g) => g.status)).toEqual(groups.map(() => 201));
  await e2e.waitForConvergence(30_000);

  const deactivations = await Promise.all(
    ids.slice(0, DEACTIVATED).map((id, i) => scimVia(i, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] })),
  );
  expect(deactivations.map((d) => d.status)).toEqual(deactivations.map(() => 200));
  await e2e.waitForConvergence(30_000);

  const actual = e2e.actualInCoder();
  expect(Object.keys(actual.users)).toHaveLength(USERS);
  expect(Object.values(actual.users).filter((u) => u.suspended)).toHaveLength(DEACTIVATED);
  expect(Object.keys(actual.groups)).toHaveLength(GROUPS);

  // One bridge: a POST per user, per group a create and one PATCH with its members, a suspend per deactivation.
  const calls = e2e.sim.calls();
  expect({
    userCreates: calls['POST /api/v2/users'],
    groupCreates: calls['POST /api/v2/organizations/{org}/groups'],
    memberPatches: calls['PATCH /api/v2/groups/{group}'],
    suspends: calls['PUT /api/v2/users/{user}/status/suspend'],
    writes: e2e.sim.writeCalls(),
  }).toEqual({ userCreates: USERS, groupCreates: GROUPS, memberPatches: GROUPS, suspends: DEACTIVATED, writes: USERS + 2 * GROUPS + DEACTIVATED });
}, 90_000);

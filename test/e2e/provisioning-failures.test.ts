import { startE2E, type E2E } from './harness';
import { runEntraSequence, runOktaSequence } from './idp-sequences';
import { seededRandom } from './seeded-random';

/**
 * The provisioning sequences of provisioning.test.ts while Coder fails one write in five (500s, and connections
 * dropped before or after the write is applied): slower, and just as exact.
 */

const USERS = 14;

describe.each(['suspend', 'delete'] as const)('USER_DELETE_POLICY=%s', (policy) => {
  let e2e: E2E;
  beforeEach(async () => {
    e2e = await startE2E({ sim: { writeFailureRate: 0.2, random: seededRandom(20240229) }, env: { USER_DELETE_POLICY: policy } });
  });
  afterEach(() => e2e.close());

  test.each([
    ['Okta', runOktaSequence],
    ['Entra', runEntraSequence],
  ] as const)('%s sequence converges exactly while Coder fails 20%% of writes', async (idp, run) => {
    const sequence = await run(e2e, { users: USERS, tag: 'f' });
    const ms = await e2e.waitForConvergence(75_000);

    expect(e2e.actualInCoder()).toEqual(sequence.expected(policy));
    // A write applied before its connection dropped is recognised on retry, not repeated: no duplicate users.
    const managedUsers = e2e.sim.users().filter((user) => user.id !== e2e.sim.ownerId && !user.deleted);
    expect(managedUsers).toHaveLength(policy === 'suspend' ? USERS : USERS - 1);
    console.log(`${idp} (${policy}) with 20% failed writes: ${sequence.scimWrites} SCIM writes, ${e2e.sim.writeCalls()} Coder writes; converged ${ms} ms after the last write`);
  }, 90_000);
});

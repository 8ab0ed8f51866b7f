import { startE2E, type E2E } from './harness';
import { runEntraSequence, runOktaSequence, type SequenceOptions, type SequenceRun } from './idp-sequences';

/**
 * Issue 3's proof on a healthy Coder: an Okta and an Entra provisioning sequence through the bridge's SCIM API
 * end with Coder holding exactly the desired users, statuses, groups and members, at about one Coder write
 * per SCIM change.
 */

const USERS = 14;
/** One Coder call per change on the hot path; a little over one leaves room for a group that waits for a user. */
const MAX_CODER_WRITES_PER_SCIM_CHANGE = 1.1;

const sequences: [string, (e2e: E2E, options: SequenceOptions) => Promise<SequenceRun>][] = [
  ['Okta', runOktaSequence],
  ['Entra', runEntraSequence],
];

describe.each(['suspend', 'delete'] as const)('USER_DELETE_POLICY=%s', (policy) => {
  let e2e: E2E;
  beforeEach(async () => {
    e2e = await startE2E({ env: { USER_DELETE_POLICY: policy } });
  });
  afterEach(() => e2e.close());

  test.each(sequences)('%s sequence converges exactly, at most 1.1 Coder writes per SCIM change', async (idp, run) => {
    const sequence = await run(e2e, { users: USERS, tag: 'a' });
    const ms = await e2e.waitForConvergence(30_000);

    const expected = sequence.expected(policy);
    expect(e2e.actualInCoder()).toEqual(expected);
    const deleted = `${idp.toLowerCase()}-a-6@${idp === 'Okta' ? 'example.com' : 'contoso.test'}`;
    if (policy === 'suspend') expect(expected.users[deleted]?.suspended).toBe(true);
    else expect(expected.users[deleted]).toBeUndefined();

    const perChange = e2e.sim.writeCalls() / sequence.scimWrites;
    console.log(`${idp} (${policy}): ${sequence.scimWrites} SCIM writes, ${e2e.sim.writeCalls()} Coder writes = ${perChange.toFixed(3)} per change; converged ${ms} ms after the last write`);
    expect(perChange).toBeLessThanOrEqual(MAX_CODER_WRITES_PER_SCIM_CHANGE);
  });
});

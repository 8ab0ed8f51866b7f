import { startBridge, type Bridge } from '../../src/bridge';
import { createLogger } from '../../src/log';
import { startE2E, type E2E } from '../e2e/harness';
import { coderCallCount, expectConverged } from './verify';
import { createGroup, createUser, patchMembers, replaceUser, runLimited, setActive, userEmail, type ExpectedState } from './workload';

/** Duplicate and reordered deliveries, concurrent updates of one user and one group, and a deactivation that overtakes its creation. */

const USERS = 200;
const GROUPS = ['Delivery Red', 'Delivery Green', 'Delivery Blue'];

let e2e: E2E | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

function baseline(tag: string): { emails: string[]; expected: ExpectedState } {
  const emails = Array.from({ length: USERS }, (_, i) => userEmail(tag, i));
  const users = Object.fromEntries(emails.map((email, i) => [email, { name: `Fault User${i}`, suspended: false }]));
  return { emails, expected: { users, groups: {} } };
}

test('every change delivered twice, and member removals delivered before the additions they follow', async () => {
  const run = await startE2E({ sim: { latencyMs: 10 } });
  e2e = run;
  const started = Date.now();
  const { emails, expected } = baseline('twice');
  const ids: string[] = [];
  await runLimited(
    emails.map((email, i) => async () => {
      const [first, second] = await Promise.all([createUser(run, email, 'Fault', `User${i}`), createUser(run, email, 'Fault', `User${i}`)]);
      expect(second).toBe(first);
      ids[i] = first;
    }),
    16,
  );
  const groupIds = await Promise.all(GROUPS.map((name) => createGroup(run, name, [])));
  // Sent while most users are still on their way to Coder: the groups must wait for them, not drop them.
  await runLimited(
    GROUPS.map((name, g) => async () => {
      const mine = ids.filter((_, i) => i % GROUPS.length === g);
      const late = mine.slice(0, 10);
      await patchMembers(run, groupIds[g], 'remove', late);
      await patchMembers(run, groupIds[g], 'remove', late);
      await Promise.all([patchMembers(run, groupIds[g], 'add', mine), patchMembers(run, groupIds[g], 'add', mine)]);
      expected.groups[name] = emails.filter((_, i) => i % GROUPS.length === g).sort();
    }),
    3,
  );
  await runLimited(
    emails.map((email, i) => async () => {
      if (i % 10 !== 0) return;
      await Promise.all([setActive(run, ids[i], false), setActive(run, ids[i], false)]);
      expected.users[email].suspended = true;
    }),
    16,
  );
  await expectConverged(run, 'duplicate and reordered deliveries', expected, started);
}, 90_000);

test('many concurrent updates to one user and to one group end with Coder holding the last stored state', async () => {
  const run = await startE2E({ sim: { latencyMs: 5 } });
  e2e = run;
  const started = Date.now();
  const { emails, expected } = baseline('busy');
  const ids: string[] = [];
  await runLimited(emails.map((email, i) => async () => void (ids[i] = await createUser(run, email, 'Fault', `User${i}`))), 16);
  const groupIds = await Promise.all(GROUPS.map((name) => createGroup(run, name, [])));

  const hot = 0;
  const names = Array.from({ length: 50 }, (_, n) => `Variant${n}`);
  const leaving = ids.slice(0, 40);
  await patchMembers(run, groupIds[0], 'add', leaving);
  await Promise.all([
    ...names.map((family) => replaceUser(run, ids[hot], emails[hot], 'Hot', family)),
    ...ids.slice(40).map((id) => patchMembers(run, groupIds[0], 'add', [id])),
    ...leaving.map((id) => patchMembers(run, groupIds[0], 'remove', [id])),
  ]);

  const stored = await run.store.getUser(ids[hot]);
  const storedName = `${(stored?.doc.name as { givenName: string; familyName: string }).givenName} ${(stored?.doc.name as { familyName: string }).familyName}`;
  expect(names.map((family) => `Hot ${family}`)).toContain(storedName);
  expected.users[emails[hot]] = { name: storedName, suspended: false };
  expected.groups = { [GROUPS[0]]: emails.slice(40).sort(), [GROUPS[1]]: [], [GROUPS[2]]: [] };
  await expectConverged(run, 'concurrent updates of one user and one group', expected, started);
}, 90_000);

test('a deactivation sent while the creation is still queued ends with the user suspended', async () => {
  const run = await startE2E({ mode: 'serve' });
  e2e = run;
  const started = Date.now();
  const { emails, expected } = baseline('queued');
  const ids: string[] = [];
  await runLimited(emails.map((email, i) => async () => void (ids[i] = await createUser(run, email, 'Fault', `User${i}`))), 16);
  await runLimited(
    emails.map((email, i) => async () => {
      if (i % 4 !== 0) return;
      await setActive(run, ids[i], false);
      expected.users[email].suspended = true;
    }),
    16,
  );
  for (const name of GROUPS) expected.groups[name] = [];
  await Promise.all(GROUPS.map((name) => createGroup(run, name, [])));
  expect(coderCallCount(run)).toBe(0);

  const worker: Bridge = await startBridge(run.config, 'worker', createLogger('silent'));
  try {
    await expectConverged(run, 'deactivation overtaking creation', expected, started);
  } finally {
    await worker.close();
  }
}, 90_000);

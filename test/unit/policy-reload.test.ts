import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics';
import { AccessPolicyHolder } from '../../src/policy/holder';
import { parsePolicy } from '../../src/policy/load';
import type { ReconcileRequest } from '../../src/queue/producer';
import { PolicyReloader } from '../../src/runtime/policy-reload';
import type { AccessPolicyStatus, LoadedPolicy } from '../../src/store/access-policy-status';
import { waitFor } from '../wait-for';

/** The reloader's bookkeeping: a re-evaluation Redis refused is retried, and recorded only once queued. */

const V1 = 'version: 1\nrules:\n  - name: a\n    match: { groups: [A] }\n    grants: { siteRoles: [auditor] }\n';
const V2 = `${V1}  - name: b\n    match: { groups: [B] }\n    grants: { siteRoles: [user-admin] }\n`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'policy-reload-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup(failEnqueues: number, failReads = 0) {
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, V1);
  const holder = new AccessPolicyHolder(parsePolicy(V1, file), 'coder');
  const queued: ReconcileRequest[] = [];
  let failures = failEnqueues;
  let readFailures = failReads;
  let record: AccessPolicyStatus = { loaded: null, reloadFailure: null, idpSync: null };
  const reloader = new PolicyReloader({
    file,
    holder,
    store: {
      syncIds: async (kind) => (kind === 'user' ? ['u1', 'u2'] : ['g1']),
      // u2 failed permanently: only it is forced (a forced run reads Coder even when its access is unchanged).
      permanentFailures: async () => ({
        total: { user: 1, group: 0 },
        items: [{ kind: 'user' as const, id: 'u2', status: { lastError: { code: 'idp_sync', message: 'role sync on', permanent: true, at: 0, version: 1 } } }],
      }),
    },
    producer: {
      enqueueMany: async (items) => {
        if (failures-- > 0) throw new Error('redis unavailable');
        queued.push(...items);
      },
    },
    status: {
      read: async () => {
        if (readFailures-- > 0) throw new Error('redis unavailable');
        return record;
      },
      loaded: async (loaded: LoadedPolicy) => void (record = { ...record, loaded, reloadFailure: null }),
      write: async (field, value) => void (record = { ...record, [field]: value }),
    },
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger('silent'),
    retryMs: 10,
  });
  return { file, holder, queued, reloader, record: () => record };
}

test('a change whose re-evaluation Redis refuses is queued again later, and recorded only then', async () => {
  const h = setup(1);
  writeFileSync(h.file, V2);
  await h.reloader.reload('file');
  expect(h.holder.source()?.rules).toHaveLength(2);
  expect(h.queued).toEqual([]);
  expect(h.record().loaded).toBeNull();
  await waitFor(() => h.queued.length === 3, 5_000, 'the retried re-evaluation');
  expect(h.queued).toEqual([
    { kind: 'user', id: 'u1' },
    { kind: 'user', id: 'u2', force: true },
    { kind: 'group', id: 'g1' },
  ]);
  await waitFor(() => h.record().loaded !== null, 5_000, 'the record');
  expect(h.record().loaded).toMatchObject({ rules: 2, fingerprint: h.holder.fingerprint() });
  h.reloader.close();
});

test('an invalid file keeps the policy and records the problems; the same valid file again clears them, queueing nothing', async () => {
  const h = setup(0);
  await h.reloader.reload('start');
  expect(h.queued).toHaveLength(3);
  const before = h.holder.fingerprint();
  writeFileSync(h.file, 'version: 2\n');
  await h.reloader.reload('sighup');
  expect(h.holder.fingerprint()).toBe(before);
  expect(h.record().reloadFailure?.problems).toEqual([expect.stringMatching(/policy\.yaml:1: version: must be/)]);
  writeFileSync(h.file, V1);
  await h.reloader.reload('file');
  expect(h.record().reloadFailure).toBeNull();
  expect(h.queued).toHaveLength(3);
  h.reloader.close();
});

test('a start that cannot read which policy was applied before asks again, and re-evaluates once it can', async () => {
  const h = setup(0, 1);
  await h.reloader.reload('start');
  expect(h.queued).toEqual([]);
  await waitFor(() => h.queued.length === 3 && h.record().loaded !== null, 5_000, 'the retried start');
  h.reloader.close();
});

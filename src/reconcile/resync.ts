import type { Logger } from '../log';
import type { DesiredStore } from '../store/types';
import type { SyncStatus } from '../model/sync';
import type { ResourceKind } from '../model/resource';
import { readFullSnapshot, readGroupSnapshot, readUserSnapshot, type CoderReader } from './coder-snapshot';
import { computeDrift, type Drift, type ManagedGroup, type ManagedUser, type UnmanagedGroup, type UnmanagedUser } from './drift';
import { managedIds, readManagedGroups, readManagedUsers } from './managed-resources';
import type { GroupOperation, PlanContext, UserOperation } from './plan';
import { formatResourceRef, parseResourceRef, resourceTypeOf, type ResourceRef, type ResourceType } from '../model/resource-ref';
import { errorMessage } from '../log-errors';
import type { User } from '../coder/types';
import { previewPolicy, type PolicyChange, type PolicyPreviewDeps } from './policy-preview';

/**
 * The full resync (design rule 7): read Coder in pages, compare with the store, and for each drifted resource
 * record Coder's real state as `applied` and queue a forced reconcile. The ordinary reconciler then converges
 * it, so a resync never calls Coder's write API itself and repairs exactly like any other change. With an access
 * policy it also plans every resource's grants (policy-preview.ts) and queues those the policy changes, which the
 * drift of users and groups does not show (a role taken away by hand, a template created under a granted glob).
 */

export class ResyncError extends Error {
  constructor(
    readonly code: 'invalid_resource' | 'not_found',
    message: string,
  ) {
    super(message);
    this.name = 'ResyncError';
  }
}

/** What a resync needs of the reconcile queue (ReconcileProducer fits). */
export interface ReconcileEnqueuer {
  enqueue(kind: ResourceKind, id: string, options?: { force?: boolean }): Promise<unknown>;
}

export interface ResyncProgress {
  phase: 'reading' | 'repairing' | 'done';
  checked: number;
  drifted: number;
  changed: number;
  failed: number;
}

export interface ResourceOperations {
  type: ResourceType;
  id: string;
  /** Stored-applied fields Coder no longer agrees with ("missing": Coder lost the resource). */
  differences: string[];
  operations: (UserOperation | GroupOperation)[];
}

export interface ResourceProblem {
  type: ResourceType;
  id: string;
  code: string;
  message: string;
}

export interface ResyncReport {
  dryRun: boolean;
  /** "Users/<id>" for a one-resource resync. */
  resource?: string;
  startedAt: number;
  finishedAt: number;
  checked: number;
  drifted: number;
  /** Resources whose sync status was rewritten or that were queued for a forced reconcile; 0 on a dry run. */
  changed: number;
  /** Resources the resync could not handle: unmappable documents, failed repairs (see `problems`). */
  failed: number;
  /** Permanently failed resources queued again with force (on a dry run: that would be). */
  retriedFailures: number;
  unmanaged: { users: UnmanagedUser[]; groups: UnmanagedGroup[]; userCount: number; groupCount: number };
  /** Per drifted resource, the operations the reconciler will run (or, on a dry run, would run). */
  operations: ResourceOperations[];
  operationsOmitted: number;
  /**
   * What the access policy changes in Coder, per user and group: the grants to add and to remove (on a dry run:
   * would). Absent when the workers apply no policy and hold no grant of an earlier one.
   */
  policy?: PolicyReport;
  problems: ResourceProblem[];
}

export interface PolicyReport {
  /** Users and groups in Coder whose access was planned. */
  evaluated: number;
  /** Of those, how many the policy changes (each queued for a forced reconcile, unless a dry run). */
  changed: number;
  changes: PolicyChange[];
  changesOmitted: number;
}

export interface ResyncOptions {
  store: DesiredStore;
  coder: CoderReader;
  producer: ReconcileEnqueuer;
  /** Plan context: the organization, the delete policy and login type the reconcilers use. */
  plan: PlanContext;
  /** The access policy's planning (absent: the policy section is left out). */
  policy?: PolicyPreviewDeps;
  dryRun: boolean;
  /** "Users/<id>" or "Groups/<id>": resync only that resource. */
  resource?: string;
  onProgress?: (progress: ResyncProgress) => void | Promise<void>;
  logger?: Logger;
  /** Coder list page size (default RESYNC_PAGE_SIZE). */
  pageSize?: number;
}

/** Long lists are cut in the report: it is kept with the job, and a first resync of a big deployment is big. */
export const REPORT_LIST_LIMIT = 1_000;

interface ReadResult {
  users: ManagedUser[];
  groups: ManagedGroup[];
  drift: Drift;
  /** Every Coder user, when the resync read them all. */
  coderUsers?: User[];
}

async function readEverything(options: ResyncOptions): Promise<ReadResult> {
  const { store, coder, plan } = options;
  const [userIds, groupIds] = await Promise.all([managedIds(store, 'user'), managedIds(store, 'group')]);
  const [users, groups, snapshot] = await Promise.all([
    readManagedUsers(store, userIds),
    readManagedGroups(store, groupIds),
    readFullSnapshot(coder, plan.orgId, options.pageSize),
  ]);
  return { users, groups, drift: computeDrift({ users, groups }, snapshot, plan), coderUsers: snapshot.users };
}

async function readOne(options: ResyncOptions, ref: ResourceRef): Promise<ReadResult> {
  const { store, coder, plan } = options;
  if (ref.kind === 'user') {
    const [user] = await readManagedUsers(store, [ref.id]);
    if (!user.desired && !user.sync) throw new ResyncError('not_found', `${formatResourceRef(ref)} is not managed by the bridge`);
    const snapshot = await readUserSnapshot(coder, plan.orgId, user.sync?.applied?.coderId);
    const drift = computeDrift({ users: [user], groups: [] }, snapshot, plan);
    return { users: [user], groups: [], drift: { ...drift, unmanaged: { users: [], groups: [] } } };
  }
  const [group] = await readManagedGroups(store, [ref.id]);
  if (!group.desired && !group.sync) throw new ResyncError('not_found', `${formatResourceRef(ref)} is not managed by the bridge`);
  // The members' sync statuses resolve desired members to Coder ids; only the group itself is checked.
  const [members, snapshot] = await Promise.all([readManagedUsers(store, group.memberIds), readGroupSnapshot(coder, group.sync?.applied?.coderId, options.pageSize)]);
  const drift = computeDrift({ users: members, groups: [group] }, snapshot, plan);
  return { users: [], groups: [group], drift: { ...drift, checked: 1, users: [], unmanaged: { users: [], groups: [] } } };
}

function sameApplied(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Records Coder's real state as `applied`, unless a reconcile wrote the sync status since the resync read it:
 * that reconcile saw a newer Coder than the snapshot, and the forced reconcile re-plans from its record anyway.
 * `appliedVersion` goes: the real state corresponds to no desired version.
 */
async function recordRealState<A>(store: DesiredStore, kind: ResourceKind, id: string, readApplied: A | undefined, real: A | undefined): Promise<void> {
  const current = await store.getSync<A>(kind, id);
  if (!current || !sameApplied(current.applied, readApplied)) return;
  const { applied: _applied, appliedVersion: _appliedVersion, ...rest } = current;
  const next: SyncStatus<A> = real ? { ...rest, applied: real } : rest;
  await store.setSync(kind, id, next);
}

/** The policy section; a resource whose planning fails is a problem of the resync, as a failed repair is. */
async function planPolicy(
  deps: PolicyPreviewDeps,
  read: Omit<ReadResult, 'drift'> & { drift: Drift },
  problems: ResourceProblem[],
): Promise<Awaited<ReturnType<typeof previewPolicy>> | undefined> {
  const recorded = read.users.some((u) => u.sync?.applied?.access) || read.groups.some((g) => g.sync?.applied?.access);
  if (!deps.access.policy.current() && !recorded) return undefined;
  const skip = new Set(read.drift.unplannable.map((u) => `${u.kind}:${u.id}`));
  return previewPolicy(deps, { users: read.users, groups: read.groups, coderUsers: read.coderUsers, skip }, ({ type, id, err }) => problems.push(problemOf(type, id, err)));
}

function problemOf(type: ResourceType, id: string, err: unknown): ResourceProblem {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'error';
  return { type, id, code, message: errorMessage(err) };
}

export async function runResync(options: ResyncOptions): Promise<ResyncReport> {
  const { store, producer, dryRun, logger } = options;
  const startedAt = Date.now();
  const ref = options.resource === undefined ? undefined : parseResourceRef(options.resource);
  if (options.resource !== undefined && !ref) {
    throw new ResyncError('invalid_resource', `resource must be "Users/<id>" or "Groups/<id>" (got "${options.resource}")`);
  }
  const progress: ResyncProgress = { phase: 'reading', checked: 0, drifted: 0, changed: 0, failed: 0 };
  const report = async (): Promise<void> => {
    await options.onProgress?.({ ...progress });
  };
  logger?.info({ event: 'resync_started', dryRun, resource: options.resource }, 'resync started');
  await report();

  const { users, groups, drift, coderUsers } = ref ? await readOne(options, ref) : await readEverything(options);
  const drifted = [...drift.users, ...drift.groups];
  const problems: ResourceProblem[] = drift.unplannable.map((u) => ({ type: resourceTypeOf(u.kind), id: u.id, code: u.code, message: u.message }));
  const policy = options.policy ? await planPolicy(options.policy, { users, groups, coderUsers, drift }, problems) : undefined;
  progress.phase = 'repairing';
  progress.checked = drift.checked;
  progress.drifted = drifted.length;
  progress.failed = problems.length;
  await report();

  const driftedKeys = new Set(drifted.map((d) => `${d.kind}:${d.id}`));
  const storedApplied = new Map<string, unknown>([
    ...users.map((u): [string, unknown] => [`user:${u.id}`, u.sync?.applied]),
    ...groups.map((g): [string, unknown] => [`group:${g.id}`, g.sync?.applied]),
  ]);
  const permanentlyFailed = [
    ...users.filter((u) => u.sync?.lastError?.permanent).map((u) => ({ kind: 'user' as const, id: u.id })),
    ...groups.filter((g) => g.sync?.lastError?.permanent).map((g) => ({ kind: 'group' as const, id: g.id })),
  ].filter((r) => !driftedKeys.has(`${r.kind}:${r.id}`));

  for (const entry of drifted) {
    logger?.info(
      { event: 'resync_drift', kind: entry.kind, id: entry.id, differences: entry.differences, operations: entry.operations.map((o) => o.op), dryRun },
      'drift found',
    );
    if (dryRun) continue;
    try {
      if (entry.differences.length > 0) await recordRealState(store, entry.kind, entry.id, storedApplied.get(`${entry.kind}:${entry.id}`), entry.real);
      await producer.enqueue(entry.kind, entry.id, { force: true });
      progress.changed += 1;
    } catch (err) {
      problems.push(problemOf(resourceTypeOf(entry.kind), entry.id, err));
      progress.failed += 1;
    }
    await report();
  }

  for (const change of policy?.changes ?? []) {
    logger?.info({ event: 'resync_policy_change', type: change.type, id: change.id, name: change.name, add: change.add, remove: change.remove, dryRun }, 'the access policy changes this resource');
  }
  if (!dryRun) {
    // What the policy changes and nothing else queues: a grant undone by hand in Coder, a template created since.
    const queued = new Set([...driftedKeys, ...permanentlyFailed.map((r) => `${r.kind}:${r.id}`)]);
    const policyOnly = (policy?.changes ?? []).map((c) => ({ kind: c.type === 'Users' ? ('user' as const) : ('group' as const), id: c.id })).filter((r) => !queued.has(`${r.kind}:${r.id}`));
    for (const resource of [...permanentlyFailed, ...policyOnly]) {
      try {
        await producer.enqueue(resource.kind, resource.id, { force: true });
        progress.changed += 1;
      } catch (err) {
        problems.push(problemOf(resourceTypeOf(resource.kind), resource.id, err));
        progress.failed += 1;
      }
      await report();
    }
  }

  const operations = drifted.map((d) => ({ type: resourceTypeOf(d.kind), id: d.id, differences: d.differences, operations: d.operations }));
  const result: ResyncReport = {
    dryRun,
    ...(ref ? { resource: formatResourceRef(ref) } : {}),
    startedAt,
    finishedAt: Date.now(),
    checked: progress.checked,
    drifted: progress.drifted,
    changed: progress.changed,
    failed: progress.failed,
    retriedFailures: permanentlyFailed.length,
    unmanaged: {
      users: drift.unmanaged.users.slice(0, REPORT_LIST_LIMIT),
      groups: drift.unmanaged.groups.slice(0, REPORT_LIST_LIMIT),
      userCount: drift.unmanaged.users.length,
      groupCount: drift.unmanaged.groups.length,
    },
    operations: operations.slice(0, REPORT_LIST_LIMIT),
    operationsOmitted: Math.max(0, operations.length - REPORT_LIST_LIMIT),
    ...(policy
      ? { policy: { evaluated: policy.evaluated, changed: policy.changes.length, changes: policy.changes.slice(0, REPORT_LIST_LIMIT), changesOmitted: Math.max(0, policy.changes.length - REPORT_LIST_LIMIT) } }
      : {}),
    problems: problems.slice(0, REPORT_LIST_LIMIT),
  };
  progress.phase = 'done';
  await report();
  logger?.info(
    {
      event: 'resync_finished',
      dryRun,
      resource: result.resource,
      checked: result.checked,
      drifted: result.drifted,
      changed: result.changed,
      failed: result.failed,
      retriedFailures: result.retriedFailures,
      policyEvaluated: result.policy?.evaluated,
      policyChanged: result.policy?.changed,
      unmanagedUsers: result.unmanaged.userCount,
      unmanagedGroups: result.unmanaged.groupCount,
      durationMs: result.finishedAt - startedAt,
    },
    'resync finished',
  );
  return result;
}

import { randomUUID } from 'node:crypto';
import { CoderClient } from '../../src/coder/client';
import { createLogger } from '../../src/log';
import { tokenUserIdOf, type AdoptionPolicy } from '../../src/reconcile/adoption';
import { parseAdoptGroups } from '../../src/model/adopt-groups';
import { GroupReconciler } from '../../src/reconcile/group-reconciler';
import { groupsLicensed } from '../../src/coder/licence';
import type { AppliedGroupState, AppliedUserState, PlanContext } from '../../src/reconcile/plan';
import type { FollowUpQueue } from '../../src/reconcile/reconcile-resource';
import { UserReconciler } from '../../src/reconcile/user-reconciler';
import { ClaimIndex } from '../../src/store/claims';
import type { SyncStatus } from '../../src/model/sync';
import type { ResourceKind, ScimDocument, StoredResource } from '../../src/model/resource';
import { startCoderSim, type CoderSim } from '../coder-sim';
import { openTestStore, type TestStore } from './store-fixtures';
import { deleteTestKeys } from '../redis';

/** Follow-up reconciles, kept for the test to inspect and run. */
export class RecordingQueue implements FollowUpQueue {
  readonly items: { kind: ResourceKind; id: string }[] = [];

  async enqueue(kind: ResourceKind, id: string): Promise<void> {
    this.items.push({ kind, id });
  }

  take(): { kind: ResourceKind; id: string }[] {
    return this.items.splice(0);
  }
}

export interface ReconcileHarness extends TestStore {
  sim: CoderSim;
  coder: CoderClient;
  claims: ClaimIndex;
  queue: RecordingQueue;
  ctx: PlanContext;
  users: UserReconciler;
  groups: GroupReconciler;
  /** A user reconciler with another delete policy, on the same store and Coder. */
  usersWithPolicy(deletePolicy: PlanContext['deletePolicy']): UserReconciler;
  /** A user reconciler calling Coder through another client (e.g. one that holds a call back until told). */
  usersThrough(coder: CoderClient): UserReconciler;
  /** A group reconciler under ADOPT_GROUPS as an operator would write it. */
  groupsAdopting(adoptGroups: string): GroupReconciler;
  /** Group reconcilers built after a fresh entitlements check, as a worker start does. */
  groupsAfterLicenceCheck(): Promise<GroupReconciler>;
  addUser(userName: string, extra?: Record<string, unknown>): Promise<StoredResource>;
  updateUser(id: string, changes: Record<string, unknown>): Promise<StoredResource>;
  addGroup(displayName: string, memberIds: string[]): Promise<StoredResource>;
  userSync(id: string): Promise<SyncStatus<AppliedUserState> | null>;
  groupSync(id: string): Promise<SyncStatus<AppliedGroupState> | null>;
  close(): Promise<void>;
}

function emailsOf(doc: ScimDocument): string[] {
  return (Array.isArray(doc.emails) ? doc.emails : []).map((e) => String((e as { value: unknown }).value));
}

export async function openReconcileHarness(): Promise<ReconcileHarness> {
  const testStore = openTestStore();
  const { store, redis, prefix } = testStore;
  const sim = await startCoderSim();
  const coder = new CoderClient({ url: sim.url, token: sim.token, timeoutMs: 5_000, retries: 0 });
  const claims = new ClaimIndex(redis, prefix);
  const queue = new RecordingQueue();
  const ctx: PlanContext = { deletePolicy: 'suspend', loginType: 'oidc', orgId: sim.defaultOrgId };
  const logger = createLogger('silent');
  const adoption: AdoptionPolicy = { tokenUserId: tokenUserIdOf(coder), groups: parseAdoptGroups(undefined) };
  const userReconciler = (deletePolicy: PlanContext['deletePolicy'], through = coder) =>
    new UserReconciler({ store, claims, queue, coder: through, adoption, ctx: { ...ctx, deletePolicy } });
  const groupReconciler = (licensed: boolean, adoptGroups?: string) =>
    new GroupReconciler({ store, claims, queue, coder, ctx, groupsLicensed: licensed, adoption: { ...adoption, groups: parseAdoptGroups(adoptGroups) } });

  return {
    ...testStore,
    sim,
    coder,
    claims,
    queue,
    ctx,
    users: userReconciler('suspend'),
    groups: groupReconciler(true),
    usersWithPolicy: userReconciler,
    usersThrough: (through) => userReconciler('suspend', through),
    groupsAdopting: (adoptGroups) => groupReconciler(true, adoptGroups),
    groupsAfterLicenceCheck: async () => groupReconciler(await groupsLicensed(coder, logger)),
    addUser: (userName, extra = {}) => {
      const doc: ScimDocument = { id: randomUUID(), userName, emails: [{ value: `${userName.replace(/@.*/, '')}@example.com`, primary: true }], active: true, ...extra };
      return store.createUser(doc, { userName, emails: emailsOf(doc) });
    },
    updateUser: (id, changes) =>
      store.updateUser(id, (current) => {
        const doc = { ...current.doc, ...changes };
        return { doc, fields: { userName: String(doc.userName), emails: emailsOf(doc) } };
      }),
    addGroup: async (displayName, memberIds) => store.createGroup({ id: randomUUID(), displayName }, { displayName }, memberIds),
    userSync: (id) => store.getSync<AppliedUserState>('user', id),
    groupSync: (id) => store.getSync<AppliedGroupState>('group', id),
    close: async () => {
      await coder.close();
      await sim.close();
      await deleteTestKeys(redis, prefix);
      redis.disconnect();
    },
  };
}

/** Calls the simulator saw since `before` (a calls() snapshot), by route. */
/** Runs `action` and returns the simulator calls it caused, by route. */
export async function callsDuring(sim: CoderSim, action: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = sim.calls();
  await action();
  return callsSince(before, sim.calls());
}

export function callsSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [route, count] of Object.entries(after)) {
    const added = count - (before[route] ?? 0);
    if (added > 0) delta[route] = added;
  }
  return delta;
}

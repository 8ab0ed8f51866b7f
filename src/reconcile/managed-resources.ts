import type { DesiredStore } from '../store/types';
import type { ResourceKind } from '../model/resource';
import type { ManagedGroup, ManagedUser } from './drift';
import type { AppliedGroupState, AppliedUserState } from './plan';

/** Reads per batch: bounded so that a large store is read in pipelined round trips, not one huge burst. */
const READ_BATCH = 200;

function batches<T>(items: T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += READ_BATCH) result.push(items.slice(i, i + READ_BATCH));
  return result;
}

/**
 * The resources the bridge is responsible for: those with a sync status (applied to Coder at least once, or a
 * tombstone) and those written but not yet reconciled (pending), so a job lost in a crash is found too.
 */
export async function managedIds(store: DesiredStore, kind: ResourceKind): Promise<string[]> {
  const [synced, pending] = await Promise.all([store.syncIds(kind), store.pending()]);
  return [...new Set([...synced, ...pending.filter((mark) => mark.kind === kind).map((mark) => mark.id)])].sort();
}

export async function readManagedUsers(store: DesiredStore, ids: string[]): Promise<ManagedUser[]> {
  const users: ManagedUser[] = [];
  for (const batch of batches(ids)) {
    const [docs, syncs] = await Promise.all([store.getUsers(batch), store.getSyncs<AppliedUserState>('user', batch)]);
    batch.forEach((id, i) => users.push({ id, desired: docs[i]?.doc ?? null, sync: syncs[i] }));
  }
  return users;
}

export async function readManagedGroups(store: DesiredStore, ids: string[]): Promise<ManagedGroup[]> {
  const groups: ManagedGroup[] = [];
  for (const batch of batches(ids)) {
    const [docs, syncs, members] = await Promise.all([
      store.getGroups(batch),
      store.getSyncs<AppliedGroupState>('group', batch),
      Promise.all(batch.map((id) => store.memberIds(id))),
    ]);
    const applied = await Promise.all(
      batch.map((id, i) => (syncs[i]?.applied?.membersTracked ? store.appliedMemberCoderIds(id) : Promise.resolve(undefined))),
    );
    batch.forEach((id, i) => {
      const group: ManagedGroup = { id, desired: docs[i]?.doc ?? null, memberIds: members[i], sync: syncs[i] };
      if (applied[i]) group.appliedMemberCoderIds = applied[i];
      groups.push(group);
    });
  }
  return groups;
}

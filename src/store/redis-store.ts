import type { Cluster, Redis } from 'ioredis';
import { AppliedMembers } from './applied-members';
import type { MemberSettlement } from './calls';
import { callerMutation, guarded } from './errors';
import { GroupRecords } from './groups';
import { StoreKeys } from './keys';
import { PendingMarks } from './pending';
import type { StoredRecord } from './record';
import { registerScripts } from './scripts';
import { SyncRecords } from './sync';
import type { DesiredStore, GroupMutation, MembershipResult, MemberState, Page, PermanentFailures, Precondition, ScanPage, UserLookup, UserMutation } from './types';
import type { SyncStatus } from '../model/sync';
import type { GroupIndexFields, MembershipChange, ResourceKind, ScimDocument, StoredResource, UserIndexFields } from '../model/resource';
import { UserRecords } from './users';

const resourceOf = <F>(record: StoredRecord<F> | null): StoredResource | null => record?.resource ?? null;

/**
 * The desired state in Redis. Every key starts with `${prefix}:`; with a `{hash-tag}` prefix the store works on
 * Redis Cluster. Every Redis failure surfaces as StoreError('unavailable').
 */
export class RedisStore implements DesiredStore {
  private readonly users: UserRecords;
  private readonly groups: GroupRecords;
  private readonly sync: SyncRecords;
  private readonly marks: PendingMarks;
  private readonly applied: AppliedMembers;

  constructor(redis: Redis | Cluster, prefix: string) {
    const ctx = { redis, keys: new StoreKeys(prefix), runScript: registerScripts(redis) };
    this.users = new UserRecords(ctx);
    this.groups = new GroupRecords(ctx);
    this.sync = new SyncRecords(ctx);
    this.marks = new PendingMarks(ctx);
    this.applied = new AppliedMembers(ctx);
  }

  createUser(doc: ScimDocument, fields: UserIndexFields): Promise<StoredResource> {
    return guarded(() => this.users.create(doc, fields));
  }

  getUser(id: string): Promise<StoredResource | null> {
    return guarded(async () => resourceOf(await this.users.reader.read(id)));
  }

  getUsers(ids: string[]): Promise<(StoredResource | null)[]> {
    return guarded(async () => (await this.users.reader.readMany(ids)).map(resourceOf));
  }

  updateUser(id: string, mutate: UserMutation): Promise<StoredResource> {
    return guarded(() => this.users.update(id, callerMutation(mutate)));
  }

  deleteUser(id: string, precondition?: Precondition): Promise<{ deleted: boolean; groupIds: string[] }> {
    return guarded(() => this.users.delete(id, precondition && callerMutation(precondition)));
  }

  findUsers(attribute: UserLookup, value: string): Promise<string[] | undefined> {
    return guarded(() => this.users.find(attribute, value));
  }

  listUsers(start: number, count: number): Promise<Page> {
    return guarded(() => this.users.reader.page(start, count));
  }

  userGroupIds(id: string): Promise<string[]> {
    return guarded(() => this.users.groupIds(id));
  }

  createGroup(
    doc: ScimDocument,
    fields: GroupIndexFields,
    memberIds: string[],
    displays?: Record<string, string>,
  ): Promise<StoredResource & { ignored: string[] }> {
    return guarded(() => this.groups.create(doc, fields, memberIds, displays));
  }

  getGroup(id: string): Promise<StoredResource | null> {
    return guarded(async () => resourceOf(await this.groups.reader.read(id)));
  }

  getGroups(ids: string[]): Promise<(StoredResource | null)[]> {
    return guarded(async () => (await this.groups.reader.readMany(ids)).map(resourceOf));
  }

  updateGroup(id: string, mutate: GroupMutation): Promise<StoredResource> {
    return guarded(() => this.groups.update(id, callerMutation(mutate)));
  }

  deleteGroup(id: string, precondition?: Precondition): Promise<boolean> {
    return guarded(() => this.groups.delete(id, precondition && callerMutation(precondition)));
  }

  findGroups(attribute: 'displayName' | 'externalId', value: string): Promise<string[]> {
    return guarded(() => this.groups.find(attribute, value));
  }

  listGroups(start: number, count: number): Promise<Page> {
    return guarded(() => this.groups.reader.page(start, count));
  }

  changeMembers(groupId: string, change: MembershipChange): Promise<MembershipResult> {
    return guarded(() => this.groups.changeMembers(groupId, change));
  }

  memberIds(groupId: string): Promise<string[]> {
    return guarded(() => this.groups.memberIds(groupId));
  }

  async *memberIdBatches(groupId: string, batch: number): AsyncGenerator<string[]> {
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, ids] = await guarded(() => this.groups.scanMembers(groupId, cursor, batch));
      const fresh = ids.filter((id) => !seen.has(id));
      for (const id of fresh) seen.add(id);
      if (fresh.length > 0) yield fresh;
      cursor = next;
    } while (cursor !== '0');
  }

  memberCounts(groupIds: string[]): Promise<number[]> {
    return guarded(() => this.groups.memberCounts(groupIds));
  }

  memberDisplays(groupId: string, memberIds: string[]): Promise<(string | null)[]> {
    return guarded(() => this.groups.memberDisplays(groupId, memberIds));
  }

  isMember(groupId: string, userId: string): Promise<boolean> {
    return guarded(() => this.groups.isMember(groupId, userId));
  }

  pending(limit?: number): Promise<{ kind: ResourceKind; id: string; version: number }[]> {
    return guarded(() => this.marks.list(limit));
  }

  clearPending(kind: ResourceKind, id: string, version: number): Promise<void> {
    return guarded(() => this.marks.clear(kind, id, version));
  }

  getSync<A>(kind: ResourceKind, id: string): Promise<SyncStatus<A> | null> {
    return guarded(() => this.sync.get<A>(kind, id));
  }

  getSyncs<A>(kind: ResourceKind, ids: string[]): Promise<(SyncStatus<A> | null)[]> {
    return guarded(() => this.sync.getMany<A>(kind, ids));
  }

  setSync<A>(kind: ResourceKind, id: string, status: SyncStatus<A>, createdCoderIds: string[] = []): Promise<void> {
    return guarded(() => this.sync.set(kind, id, status, createdCoderIds));
  }

  deleteSync(kind: ResourceKind, id: string): Promise<void> {
    return guarded(() => this.sync.delete(kind, id));
  }

  scanMemberChanges(groupId: string, cursor: string, count: number): Promise<ScanPage<[userId: string, stamp: string]>> {
    return guarded(() => this.applied.scanChanges(groupId, cursor, count));
  }

  scanMembers(groupId: string, cursor: string, count: number): Promise<ScanPage<string>> {
    return guarded(() => this.applied.scanMembers(groupId, cursor, count));
  }

  scanAppliedMembers(groupId: string, cursor: string, count: number): Promise<ScanPage<string>> {
    return guarded(() => this.applied.scanApplied(groupId, cursor, count));
  }

  memberStates<A>(groupId: string, userIds: string[]): Promise<MemberState<A>[]> {
    return guarded(() => this.applied.states<A>(groupId, userIds));
  }

  settleMembers(groupId: string, settlement: MemberSettlement): Promise<void> {
    return guarded(() => this.applied.settle(groupId, settlement));
  }

  markMembersChanged(groupId: string, userIds: string[]): Promise<void> {
    return guarded(() => this.applied.mark(groupId, userIds));
  }

  replaceAppliedMembers(groupId: string, applied: [userId: string, coderId: string][]): Promise<void> {
    return guarded(() => this.applied.replace(groupId, applied));
  }

  appliedMemberCoderIds(groupId: string): Promise<string[]> {
    return guarded(() => this.applied.coderIds(groupId));
  }

  permanentFailures(limit: number): Promise<PermanentFailures> {
    return guarded(() => this.sync.permanentFailures(limit));
  }

  syncIds(kind: ResourceKind): Promise<string[]> {
    return guarded(() => this.sync.ids(kind));
  }

  counts(): Promise<{ users: number; groups: number }> {
    return guarded(async () => {
      const [users, groups] = await Promise.all([this.users.reader.count(), this.groups.reader.count()]);
      return { users, groups };
    });
  }
}

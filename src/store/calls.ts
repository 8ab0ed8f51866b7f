import { resourceMember, type IndexDelta, type LexDelta, type LexEntry, type StoreKeys } from './keys';
import type { ScriptCall } from './scripts';
import type { MembershipChange, ResourceKind, ScimDocument } from '../model/resource';

/**
 * Pure builders of the KEYS/ARGV layouts documented in scripts.ts: the one place that knows how a write's
 * keys are laid out, so callers deal in ids and index deltas.
 */

const NO_LEX_CHANGE: LexDelta = { remove: [], add: [] };

export interface ResourceWrite {
  kind: ResourceKind;
  id: string;
  /** 0 creates (refused if the id exists); otherwise the version the caller read. */
  expectedVersion: number;
  doc: ScimDocument;
  fields: object;
  delta: IndexDelta;
  /** Ordered-index entries to move (users' userName prefixes). */
  lex?: LexDelta;
  /** Initial members of a created group, and the display names sent with them. */
  memberIds?: string[];
  displays?: Record<string, string>;
  now: number;
}

export function writeResourceCall(keys: StoreKeys, write: ResourceWrite): ScriptCall {
  const { kind, id, delta } = write;
  const lex = write.lex ?? NO_LEX_CHANGE;
  const memberIds = write.memberIds ?? [];
  const memberKeys =
    memberIds.length === 0
      ? []
      : [keys.members(id), keys.memberDisplays(id), keys.memberChanges(id), ...memberIds.flatMap((userId) => userMemberKeys(keys, userId))];
  return {
    keys: [
      keys.record(kind, id),
      keys.pending(),
      keys.list(kind),
      keys.sequence(),
      ...delta.releaseUnique,
      ...delta.claimUnique,
      ...delta.removeFromSets,
      ...delta.addToSets,
      ...lex.remove.map((entry) => entry.key),
      ...lex.add.map((entry) => entry.key),
      ...memberKeys,
    ],
    args: [
      id,
      write.expectedVersion,
      write.now,
      JSON.stringify(write.doc),
      JSON.stringify(write.fields),
      resourceMember(kind, id),
      delta.releaseUnique.length,
      delta.claimUnique.length,
      delta.removeFromSets.length,
      delta.addToSets.length,
      memberIds.length,
      lex.remove.length,
      lex.add.length,
      ...lex.remove.map((entry) => entry.member),
      ...lex.add.map((entry) => entry.member),
      ...memberIds,
      ...displayArgs(write.displays),
    ],
  };
}

/** (memberId, display) pairs, flat, as the scripts read them. */
function displayArgs(displays: Record<string, string> | undefined): string[] {
  return Object.entries(displays ?? {}).flat();
}

/** The keys addMembers needs per user: its record (does it exist?) and its reverse set. */
function userMemberKeys(keys: StoreKeys, userId: string): string[] {
  return [keys.record('user', userId), keys.userGroups(userId)];
}

export interface MemberDelta {
  add: string[];
  remove: string[];
}

/**
 * `expectedVersion` undefined applies to any version (add/remove commute); replace pins the version it diffed.
 * A replace (`change.replace` set) also replaces the recorded display names with `change.displays`.
 */
export function changeMembersCall(
  keys: StoreKeys,
  groupId: string,
  change: MembershipChange,
  delta: MemberDelta,
  now: number,
  expectedVersion?: number,
): ScriptCall {
  return {
    keys: [
      keys.record('group', groupId),
      keys.pending(),
      keys.members(groupId),
      keys.memberDisplays(groupId),
      keys.memberChanges(groupId),
      ...delta.add.flatMap((userId) => userMemberKeys(keys, userId)),
      ...delta.remove.map((userId) => keys.userGroups(userId)),
    ],
    args: [
      groupId,
      expectedVersion ?? '',
      now,
      resourceMember('group', groupId),
      delta.add.length,
      delta.remove.length,
      change.replace === undefined ? '0' : '1',
      ...delta.add,
      ...delta.remove,
      ...displayArgs(change.displays),
    ],
  };
}

export interface ResourceDelete {
  id: string;
  expectedVersion: number;
  /** The index keys the resource holds (unique ones are released only if they still point at it). */
  release: IndexDelta;
  /** The ordered-index entries it holds. */
  releaseLex?: LexEntry[];
  now: number;
}

export function deleteUserCall(keys: StoreKeys, del: ResourceDelete, groupIds: string[]): ScriptCall {
  const lexEntries = del.releaseLex ?? [];
  return {
    keys: [
      keys.record('user', del.id),
      keys.pending(),
      keys.list('user'),
      keys.userGroups(del.id),
      ...del.release.releaseUnique,
      ...del.release.removeFromSets,
      ...lexEntries.map((entry) => entry.key),
      ...groupIds.flatMap((groupId) => [keys.record('group', groupId), keys.members(groupId), keys.memberDisplays(groupId), keys.memberChanges(groupId)]),
    ],
    args: [
      del.id,
      del.expectedVersion,
      del.now,
      resourceMember('user', del.id),
      del.release.releaseUnique.length,
      del.release.removeFromSets.length,
      lexEntries.length,
      ...lexEntries.map((entry) => entry.member),
      ...groupIds.flatMap((groupId) => [groupId, resourceMember('group', groupId)]),
    ],
  };
}

export function deleteGroupCall(keys: StoreKeys, del: ResourceDelete, memberIds: string[]): ScriptCall {
  return {
    keys: [
      keys.record('group', del.id),
      keys.pending(),
      keys.list('group'),
      keys.members(del.id),
      keys.memberDisplays(del.id),
      keys.memberChanges(del.id),
      ...del.release.removeFromSets,
      ...memberIds.map((userId) => keys.userGroups(userId)),
    ],
    args: [del.id, del.expectedVersion, resourceMember('group', del.id), del.release.removeFromSets.length, ...memberIds],
  };
}

/** What one settle records: members applied (userId -> Coder id), members no longer applied, changes applied. */
export interface MemberSettlement {
  set: [userId: string, coderId: string][];
  unset: string[];
  settled: [userId: string, stamp: string][];
}

export function settleMembersCall(keys: StoreKeys, groupId: string, settlement: MemberSettlement): ScriptCall {
  const { set, unset, settled } = settlement;
  return {
    keys: [keys.appliedMembers(groupId), keys.memberChanges(groupId)],
    args: [set.length, unset.length, ...set.flat(), ...unset, ...settled.flat()],
  };
}

export function clearPendingCall(keys: StoreKeys, kind: ResourceKind, id: string, version: number): ScriptCall {
  return { keys: [keys.pending()], args: [resourceMember(kind, id), version] };
}

/** Add/remove without replace: an id named in both ends up removed. */
export function incrementalDelta(change: MembershipChange): MemberDelta {
  const remove = new Set(change.remove ?? []);
  return { add: [...new Set(change.add ?? [])].filter((id) => !remove.has(id)), remove: [...remove] };
}

/** With `replace`, the target is (replace + add) - remove, diffed against the current members. */
export function replacementDelta(change: MembershipChange & { replace: string[] }, current: Set<string>): MemberDelta {
  const remove = new Set(change.remove ?? []);
  const target = new Set([...change.replace, ...(change.add ?? [])].filter((id) => !remove.has(id)));
  return { add: [...target].filter((id) => !current.has(id)), remove: [...current].filter((id) => !target.has(id)) };
}

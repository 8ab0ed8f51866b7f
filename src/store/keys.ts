import type { GroupIndexFields, ResourceKind, UserIndexFields } from './types';

/**
 * The key layout. Every key starts with `${prefix}:`, and scripts receive every key they touch in KEYS:
 * with a `{hash-tag}` prefix all keys land in one Redis Cluster slot, which is what makes the scripts legal there.
 */
export class StoreKeys {
  constructor(readonly prefix: string) {}

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** Hash: doc (JSON), fields (JSON of the index fields), version, created, lastModified. */
  record(kind: ResourceKind, id: string): string {
    return this.key(kind, id);
  }

  /** Zset of ids scored by creation sequence: ZRANGE by rank gives stable pagination. */
  list(kind: ResourceKind): string {
    return this.key(`${kind}s`);
  }

  /** Counter behind the creation sequence. */
  sequence(): string {
    return this.key('seq');
  }

  pending(): string {
    return this.key('pending');
  }

  /** Set of group ids the user belongs to (the reverse of `members`). */
  userGroups(userId: string): string {
    return this.key('user', userId, 'groups');
  }

  members(groupId: string): string {
    return this.key('group', groupId, 'members');
  }

  /** Hash: member id -> the display name the client sent with it. */
  memberDisplays(groupId: string): string {
    return this.key('group', groupId, 'displays');
  }

  sync(kind: ResourceKind, id: string): string {
    return this.key('sync', kind, id);
  }

  /** String: which SCIM resource owns this Coder user or group (see claims.ts). */
  claim(kind: ResourceKind, coderId: string): string {
    return this.key('claim', kind, coderId);
  }

  /** Zset of `resourceMember`s whose sync record holds a permanent error, scored by the error's time. */
  failures(): string {
    return this.key('failures');
  }

  /** Set of ids that have a sync record: `syncIds` without a SCAN. */
  syncIds(kind: ResourceKind): string {
    return this.key('syncids', kind);
  }

  /** String -> user id: userName is unique, compared as `foldUserName` folds it. */
  userNameIndex(userName: string): string {
    return this.key('idx', 'user', 'userName', foldUserName(userName));
  }

  userExternalIdIndex(externalId: string): string {
    return this.key('idx', 'user', 'externalId', externalId);
  }

  userEmailIndex(email: string): string {
    return this.key('idx', 'user', 'email', email.toLowerCase());
  }

  groupDisplayNameIndex(displayName: string): string {
    return this.key('idx', 'group', 'displayName', displayName.toLowerCase());
  }

  groupExternalIdIndex(externalId: string): string {
    return this.key('idx', 'group', 'externalId', externalId);
  }
}

/**
 * What userName uniqueness compares: NFKC-normalised, then case-folded (upper- then lower-casing also folds
 * `ß` to `ss`), then NFKC again as case mapping may denormalise. So a Kelvin sign (`\u212Aate`) or full-width
 * letters (`ｋａｔｅ`) cannot take a name that looks like one already in use.
 */
export function foldUserName(userName: string): string {
  return userName.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

/** The index keys a resource's fields occupy: `unique` keys map to one id, `sets` keys hold sets of ids. */
export interface IndexKeys {
  unique: string[];
  sets: string[];
}

export const NO_INDEX_KEYS: IndexKeys = { unique: [], sets: [] };

export function userIndexKeys(keys: StoreKeys, fields: UserIndexFields): IndexKeys {
  const sets = fields.emails.map((email) => keys.userEmailIndex(email));
  if (fields.externalId !== undefined) sets.push(keys.userExternalIdIndex(fields.externalId));
  return { unique: [keys.userNameIndex(fields.userName)], sets: [...new Set(sets)] };
}

export function groupIndexKeys(keys: StoreKeys, fields: GroupIndexFields): IndexKeys {
  const sets = [keys.groupDisplayNameIndex(fields.displayName)];
  if (fields.externalId !== undefined) sets.push(keys.groupExternalIdIndex(fields.externalId));
  return { unique: [], sets };
}

/** What a write must release and claim to move a resource from `before` to `after` index keys. */
export interface IndexDelta {
  releaseUnique: string[];
  claimUnique: string[];
  removeFromSets: string[];
  addToSets: string[];
}

export function indexDelta(before: IndexKeys, after: IndexKeys): IndexDelta {
  const minus = (a: string[], b: string[]) => a.filter((key) => !b.includes(key));
  return {
    releaseUnique: minus(before.unique, after.unique),
    claimUnique: minus(after.unique, before.unique),
    removeFromSets: minus(before.sets, after.sets),
    addToSets: minus(after.sets, before.sets),
  };
}

/** A resource as a member of the pending and failures zsets: `${kind}:${id}`. */
export function resourceMember(kind: ResourceKind, id: string): string {
  return `${kind}:${id}`;
}

export function parseResourceMember(member: string): { kind: ResourceKind; id: string } | null {
  const colon = member.indexOf(':');
  const kind = member.slice(0, colon);
  if (kind !== 'user' && kind !== 'group') return null;
  return { kind, id: member.slice(colon + 1) };
}

import type { GroupIndexFields, ResourceKind, UserIndexFields } from '../model/resource';

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

  /** Zset: resource member -> when its pending mark was last set (Redis' clock, ms); written by the scripts' markPending. */
  pendingChanges(): string {
    return `${this.pending()}:changed`;
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

  /**
   * Hash: member id -> change stamp, for every member added or removed since the group was last applied to Coder
   * (or still waiting for its user to land there). Written in the same script as the membership change; the
   * stamp (the group's version at that change) lets the reconciler remove exactly the entries it applied.
   */
  memberChanges(groupId: string): string {
    return this.key('group', groupId, 'changes');
  }

  sync(kind: ResourceKind, id: string): string {
    return this.key('sync', kind, id);
  }

  /** Hash: SCIM user id -> Coder user id, for the members last applied to the group in Coder. */
  appliedMembers(groupId: string): string {
    return this.key('sync', 'group', groupId, 'members');
  }

  /** Where a full rewrite of `appliedMembers` is built before it replaces the old one in one RENAME. */
  appliedMembersDraft(groupId: string): string {
    return this.key('sync', 'group', groupId, 'members-draft');
  }

  /** String: which SCIM resource owns this Coder user or group (see claims.ts). */
  claim(kind: ResourceKind, coderId: string): string {
    return this.key('claim', kind, coderId);
  }

  /** String: the Coder name a create for this SCIM resource was sent with and never answered (see claims.ts). */
  unansweredCreate(kind: ResourceKind, scimId: string): string {
    return this.key('unanswered-create', kind, scimId);
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

  /** Set of user ids by displayName, compared case-insensitively (Entra may filter users by it). */
  userDisplayNameIndex(displayName: string): string {
    return this.key('idx', 'user', 'displayName', displayName.toLowerCase());
  }

  /**
   * Zset of `${lower-cased userName}\0${id}`, all at score 0: ZRANGEBYLEX over a prefix answers `userName sw`.
   * Outside `idx:`, which holds only string and set keys.
   */
  userNameLexIndex(): string {
    return this.key('lex', 'user', 'userName');
  }

  /** Set when every user is in the displayName and userName-prefix indexes (see index-backfill.ts). */
  userIndexesComplete(): string {
    return this.key('lex', 'user', 'complete');
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

/** A member of a lexicographically ordered index (a zset at score 0). */
export interface LexEntry {
  key: string;
  member: string;
}

/**
 * The index keys a resource's fields occupy: `unique` keys map to one id, `sets` keys hold sets of ids,
 * `lex` entries are members of ordered indexes.
 */
export interface IndexKeys {
  unique: string[];
  sets: string[];
  lex?: LexEntry[];
}

export const NO_INDEX_KEYS: IndexKeys = { unique: [], sets: [] };

/** The member that places a user in the userName-prefix index: `sw` compares lower-cased, as the filter does. */
export function userNameLexMember(userName: string, id: string): string {
  return `${userName.toLowerCase()}\u0000${id}`;
}

/** `id` is needed for the ordered index's member; without it (a caller comparing only keys) `lex` is left out. */
export function userIndexKeys(keys: StoreKeys, fields: UserIndexFields, id?: string): IndexKeys {
  const sets = fields.emails.map((email) => keys.userEmailIndex(email));
  if (fields.externalId !== undefined) sets.push(keys.userExternalIdIndex(fields.externalId));
  if (fields.displayName !== undefined) sets.push(keys.userDisplayNameIndex(fields.displayName));
  const index: IndexKeys = { unique: [keys.userNameIndex(fields.userName)], sets: [...new Set(sets)] };
  if (id !== undefined) index.lex = [{ key: keys.userNameLexIndex(), member: userNameLexMember(fields.userName, id) }];
  return index;
}

/** The ordered-index entries a write removes and adds. */
export interface LexDelta {
  remove: LexEntry[];
  add: LexEntry[];
}

export function lexDelta(before: IndexKeys, after: IndexKeys): LexDelta {
  const minus = (a: LexEntry[] = [], b: LexEntry[] = []) => a.filter((x) => !b.some((y) => y.key === x.key && y.member === x.member));
  return { remove: minus(before.lex, after.lex), add: minus(after.lex, before.lex) };
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

import type { Cluster, Redis } from 'ioredis';

/**
 * The Lua scripts behind every write. Each receives all of its keys in KEYS (computed by the caller from
 * StoreKeys), so they stay legal on Redis Cluster with a hash-tagged prefix. Variable-length key lists are
 * laid out in sections whose lengths travel in ARGV. Scripts check everything before they write anything,
 * so a refused write leaves no partial state.
 *
 * Replies are tables: { status, ... } where status is 'ok', 'not_found', 'conflict', 'exists' or
 * 'uniqueness' (followed by the contested index key).
 */

const HELPERS = `
local function take(list, first, count)
  local out = {}
  for i = 0, count - 1 do out[#out + 1] = list[first + i] end
  return out
end

-- A pending mark also goes into '<pending>:changed' (StoreKeys.pendingChanges), scored by Redis' clock, so the
-- pending sweep reads only what changed since it last ran. The name extends the pending key's, so it shares its
-- {hash-tag} and Cluster slot.
local function markPending(pending, version, member)
  redis.call('ZADD', pending, version, member)
  local time = redis.call('TIME')
  redis.call('ZADD', pending .. ':changed', tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), member)
end

local function bump(record, pending, member, now)
  local version = redis.call('HINCRBY', record, 'version', 1)
  redis.call('HSET', record, 'lastModified', now)
  markPending(pending, version, member)
  return version
end

-- KEYS[firstKey + 2(i-1)] is user i's record, the next key its reverse (groups) set. A member added afresh
-- starts without a display name, so one left by an earlier version of the bridge cannot resurface.
-- The ids that joined are appended to \`changed\`.
local function addMembers(groupId, membersKey, displaysKey, firstKey, userIds, changed)
  local ignored = {}
  for i, userId in ipairs(userIds) do
    local at = firstKey + 2 * (i - 1)
    -- A user record is a hash: any other type is a key that a crafted id aliased, never a user.
    if redis.call('TYPE', KEYS[at]).ok == 'hash' then
      if redis.call('SADD', membersKey, userId) == 1 then
        changed[#changed + 1] = userId
        redis.call('HDEL', displaysKey, userId)
      end
      redis.call('SADD', KEYS[at + 1], groupId)
    else
      ignored[#ignored + 1] = userId
    end
  end
  return ignored
end

-- KEYS[firstKey + i - 1] is user i's reverse (groups) set. A display name goes with the membership.
-- The ids that left are appended to \`changed\`.
local function removeMembers(groupId, membersKey, displaysKey, firstKey, userIds, changed)
  for i, userId in ipairs(userIds) do
    if redis.call('SREM', membersKey, userId) == 1 then changed[#changed + 1] = userId end
    redis.call('SREM', KEYS[firstKey + i - 1], groupId)
    redis.call('HDEL', displaysKey, userId)
  end
end

-- Every changed member is stamped with the version that changed it: the reconciler applies the change to Coder
-- and then removes exactly the entries it saw (see StoreKeys.memberChanges).
local function recordChanges(changesKey, userIds, version)
  for _, userId in ipairs(userIds) do redis.call('HSET', changesKey, userId, version) end
end

-- pairs: memberId, display, ... Only current members get one (an ignored id is no member).
local function recordDisplays(displaysKey, membersKey, pairs)
  for i = 1, #pairs, 2 do
    if redis.call('SISMEMBER', membersKey, pairs[i]) == 1 then redis.call('HSET', displaysKey, pairs[i], pairs[i + 1]) end
  end
end

local function sameSet(key, members)
  if redis.call('SCARD', key) ~= #members then return false end
  for _, member in ipairs(members) do
    if redis.call('SISMEMBER', key, member) == 0 then return false end
  end
  return true
end

local function checkVersion(record, expected)
  local current = redis.call('HGET', record, 'version')
  if not current then return 'not_found' end
  if expected ~= '' and tonumber(current) ~= tonumber(expected) then return 'conflict' end
  return nil, tonumber(current)
end
`;

/**
 * Create (expected version 0) or compare-and-set update of a resource with its index entries; on create of a
 * group, also its initial members.
 * KEYS: record, pending, list, sequence, releaseUnique[n1], claimUnique[n2], removeFromSets[n3], addToSets[n4],
 *       removeFromLex[n5], addToLex[n6] (ordered indexes),
 *       then, when there are initial members: members set, member displays, member changes,
 *       (user record, user groups)[nMembers].
 * ARGV: id, expectedVersion, now, doc, fields, pendingMember, n1, n2, n3, n4, nMembers, n5, n6,
 *       lex members (n5 + n6, in key order), memberIds..., (memberId, display)[...]
 */
const WRITE_RESOURCE = `${HELPERS}
local id, expected, now = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if expected == 0 then
  if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
else
  local refused = checkVersion(KEYS[1], ARGV[2])
  if refused then return {refused} end
end
local at = 5
local release = take(KEYS, at, tonumber(ARGV[7])); at = at + #release
local claim = take(KEYS, at, tonumber(ARGV[8])); at = at + #claim
local removeFrom = take(KEYS, at, tonumber(ARGV[9])); at = at + #removeFrom
local addTo = take(KEYS, at, tonumber(ARGV[10])); at = at + #addTo
local nLexRemove, nLexAdd = tonumber(ARGV[12]), tonumber(ARGV[13])
local lexRemove = take(KEYS, at, nLexRemove); at = at + nLexRemove
local lexAdd = take(KEYS, at, nLexAdd); at = at + nLexAdd
for _, key in ipairs(claim) do
  local owner = redis.call('GET', key)
  if owner and owner ~= id then return {'uniqueness', key} end
end
for _, key in ipairs(release) do
  if redis.call('GET', key) == id then redis.call('DEL', key) end
end
for _, key in ipairs(claim) do redis.call('SET', key, id) end
for _, key in ipairs(removeFrom) do redis.call('SREM', key, id) end
for _, key in ipairs(addTo) do redis.call('SADD', key, id) end
for i, key in ipairs(lexRemove) do redis.call('ZREM', key, ARGV[13 + i]) end
for i, key in ipairs(lexAdd) do redis.call('ZADD', key, 0, ARGV[13 + nLexRemove + i]) end
if expected == 0 then
  redis.call('HSET', KEYS[1], 'created', now)
  redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), id)
end
redis.call('HSET', KEYS[1], 'doc', ARGV[4], 'fields', ARGV[5])
local version = bump(KEYS[1], KEYS[2], ARGV[6], now)
local reply = {'ok', version}
local nMembers = tonumber(ARGV[11])
local firstMember = 14 + nLexRemove + nLexAdd
local memberIds = take(ARGV, firstMember, nMembers)
if #memberIds > 0 then
  local joined = {}
  local ignored = addMembers(id, KEYS[at], KEYS[at + 1], at + 3, memberIds, joined)
  recordChanges(KEYS[at + 2], joined, version)
  recordDisplays(KEYS[at + 1], KEYS[at], take(ARGV, firstMember + nMembers, #ARGV - firstMember + 1 - nMembers))
  for _, userId in ipairs(ignored) do reply[#reply + 1] = userId end
end
return reply
`;

/**
 * Set arithmetic on a group's members, O(changed members), with the display names sent for them. Bumps the
 * group only when the set changed (a display name alone is cosmetic), and records each changed member for the
 * reconciler. A replace first drops every display name.
 * KEYS: group record, pending, members set, member displays, member changes, (user record, user groups)[nAdd],
 *       user groups[nRemove].
 * ARGV: groupId, expectedVersion ('' for any), now, pendingMember, nAdd, nRemove, resetDisplays ('1' or '0'),
 *       addIds..., removeIds..., (memberId, display)[...]
 * Reply: {'ok', version, lastModified, ignoredIds...}
 */
const CHANGE_MEMBERS = `${HELPERS}
local refused, current = checkVersion(KEYS[1], ARGV[2])
if refused then return {refused} end
local nAdd, nRemove = tonumber(ARGV[5]), tonumber(ARGV[6])
local adds = take(ARGV, 8, nAdd)
local removes = take(ARGV, 8 + nAdd, nRemove)
if ARGV[7] == '1' then redis.call('DEL', KEYS[4]) end
local changed = {}
local ignored = addMembers(ARGV[1], KEYS[3], KEYS[4], 6, adds, changed)
removeMembers(ARGV[1], KEYS[3], KEYS[4], 6 + 2 * nAdd, removes, changed)
recordDisplays(KEYS[4], KEYS[3], take(ARGV, 8 + nAdd + nRemove, #ARGV - 7 - nAdd - nRemove))
local reply = {'ok', current, redis.call('HGET', KEYS[1], 'lastModified')}
if #changed > 0 then
  reply[2] = bump(KEYS[1], KEYS[2], ARGV[4], ARGV[3])
  reply[3] = ARGV[3]
  recordChanges(KEYS[5], changed, reply[2])
end
for _, userId in ipairs(ignored) do reply[#reply + 1] = userId end
return reply
`;

/**
 * Deletes a user, its index entries and its memberships, bumping each of its groups. The caller read the
 * user's groups; membership changes do not bump the user, so the script compares that list with the set.
 * KEYS: record, pending, list, user groups, releaseUnique[n1], removeFromSets[n2], removeFromLex[n3],
 *       (group record, members, member displays, member changes)[nGroups].
 * ARGV: id, expectedVersion, now, pendingMember, n1, n2, n3, lex members[n3], (groupId, groupPendingMember)[nGroups]
 */
const DELETE_USER = `${HELPERS}
local id, now = ARGV[1], ARGV[3]
local refused, current = checkVersion(KEYS[1], ARGV[2])
if refused then return {refused} end
local nLex = tonumber(ARGV[7])
local groupIds, groupMarks = {}, {}
for i = 8 + nLex, #ARGV, 2 do
  groupIds[#groupIds + 1] = ARGV[i]
  groupMarks[#groupMarks + 1] = ARGV[i + 1]
end
if not sameSet(KEYS[4], groupIds) then return {'conflict'} end
local at = 5
local release = take(KEYS, at, tonumber(ARGV[5])); at = at + #release
local removeFrom = take(KEYS, at, tonumber(ARGV[6])); at = at + #removeFrom
local lexRemove = take(KEYS, at, nLex); at = at + nLex
for _, key in ipairs(release) do
  if redis.call('GET', key) == id then redis.call('DEL', key) end
end
for _, key in ipairs(removeFrom) do redis.call('SREM', key, id) end
for i, key in ipairs(lexRemove) do redis.call('ZREM', key, ARGV[7 + i]) end
for i = 1, #groupIds do
  local first = at + 4 * (i - 1)
  local groupRecord, members, displays, changes = KEYS[first], KEYS[first + 1], KEYS[first + 2], KEYS[first + 3]
  redis.call('HDEL', displays, id)
  if redis.call('SREM', members, id) == 1 and redis.call('EXISTS', groupRecord) == 1 then
    recordChanges(changes, {id}, bump(groupRecord, KEYS[2], groupMarks[i], now))
  end
end
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('ZREM', KEYS[3], id)
markPending(KEYS[2], current + 1, ARGV[4])
return {'ok'}
`;

/**
 * Deletes a group, its index entries, its member set, their display names, its recorded member changes (the
 * reconciler deletes the whole Coder group) and the reverse entries. Every membership change bumps the group, so
 * the version check alone guarantees the caller's member list is the current one.
 * KEYS: record, pending, list, members set, member displays, member changes, removeFromSets[n1], user groups[nMembers].
 * ARGV: id, expectedVersion, pendingMember, n1, memberIds...
 */
const DELETE_GROUP = `${HELPERS}
local id = ARGV[1]
local refused, current = checkVersion(KEYS[1], ARGV[2])
if refused then return {refused} end
local nSets = tonumber(ARGV[4])
for _, key in ipairs(take(KEYS, 7, nSets)) do redis.call('SREM', key, id) end
for i = 7 + nSets, #KEYS do redis.call('SREM', KEYS[i], id) end
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5], KEYS[6])
redis.call('ZREM', KEYS[3], id)
markPending(KEYS[2], current + 1, ARGV[3])
return {'ok'}
`;

/** KEYS: pending. ARGV: member, version. Removes the mark only if no newer version was written since. */
const CLEAR_PENDING = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

/**
 * Many records in one call: the given hash fields of each key, flattened in key order (nil where absent). One
 * script call costs the client far less than a pipeline of one HMGET per record (a 1,000-member page of a group).
 * KEYS: records. ARGV: field names.
 */
const READ_RECORDS = `
local out = {}
for _, key in ipairs(KEYS) do
  local values = redis.call('HMGET', key, unpack(ARGV))
  for i = 1, #ARGV do out[#out + 1] = values[i] end
end
return out
`;

/**
 * Records members applied to Coder, and removes the member changes that were applied, each only if its stamp is
 * still the one the reconciler read (a newer change stays for the next reconcile).
 * KEYS: applied members, member changes.
 * ARGV: nSet, nUnset, (userId, coderId)[nSet], userId[nUnset], (userId, stamp)[...]
 */
const SETTLE_MEMBERS = `
local nSet, nUnset = tonumber(ARGV[1]), tonumber(ARGV[2])
local at = 3
for _ = 1, nSet do
  redis.call('HSET', KEYS[1], ARGV[at], ARGV[at + 1])
  at = at + 2
end
for _ = 1, nUnset do
  redis.call('HDEL', KEYS[1], ARGV[at])
  at = at + 1
end
for i = at, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', KEYS[2], ARGV[i]) end
end
return 0
`;

const SCRIPTS = {
  scimBridgeReadRecords: READ_RECORDS,
  scimBridgeWriteResource: WRITE_RESOURCE,
  scimBridgeChangeMembers: CHANGE_MEMBERS,
  scimBridgeDeleteUser: DELETE_USER,
  scimBridgeDeleteGroup: DELETE_GROUP,
  scimBridgeClearPending: CLEAR_PENDING,
  scimBridgeSettleMembers: SETTLE_MEMBERS,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type ScriptReply = (string | number)[];

/** A script call: the keys and arguments, in the layout documented on the script. */
export interface ScriptCall {
  keys: string[];
  args: (string | number)[];
}

/** ioredis flattens array arguments: one array carries numkeys, keys and args, however many (no spread limits). */
type ScriptClient = Record<ScriptName, (numKeysKeysAndArgs: (string | number)[]) => Promise<ScriptReply>>;

/**
 * Registers the scripts on the client once; ioredis then runs them by EVALSHA (loading on NOSCRIPT), so a
 * request never ships or compiles Lua.
 */
export function registerScripts(redis: Redis | Cluster): (name: ScriptName, call: ScriptCall) => Promise<ScriptReply> {
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua });
  const client = redis as unknown as ScriptClient;
  return (name, call) => client[name]([call.keys.length, ...call.keys, ...call.args]);
}

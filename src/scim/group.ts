import type { GroupIndexFields } from '../model/resource';
import { GROUP_MODEL } from './catalog';
import { badRequest, type ScimError } from './errors';
import { normaliseResource } from './normalise';
import { isIssuedId, isPlainObject, type Json } from '../model/resource';
import { assertVisibleText } from './visible-text';

/**
 * Member references -> user ids. Accepts `[{value, display?, $ref?}]` and a single object; a `value` that is not
 * an id this server issues (a UUID) is refused, so no member value can name another store key. A bare string is
 * taken as an id when it is one; any other bare string is ignored: Microsoft's suite PATCHes
 * `"value": "string id 1"` and expects 204 (SCIMReferenceCode#24), and it names no member either way.
 * Duplicates collapse; order is kept.
 */
export function memberIdsOf(value: unknown, where = 'members'): string[] {
  if (value === null || value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  const ids = new Set<string>();
  for (const item of items) {
    if (typeof item === 'string' && !isIssuedId(item)) continue;
    const id = isPlainObject(item) ? findValue(item) : item;
    if (typeof id !== 'string' || id === '') {
      throw badRequest('invalidValue', `${where} must be a list of {"value": "<user id>"}`);
    }
    if (!isIssuedId(id)) throw notAUserId(where, id);
    ids.add(id);
  }
  return [...ids];
}

export function notAUserId(where: string, id: string): ScimError {
  return badRequest('invalidValue', `${where}: "${id.slice(0, 64)}" is not a user id of this server (user ids are UUIDs)`);
}

function findValue(member: Json, name = 'value'): unknown {
  const key = Object.keys(member).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : member[key];
}

/**
 * The display names sent with members, by member id: `display` (RFC 7643), or `displayName` as Microsoft's
 * test collection sends it. The store echoes them back on reads.
 */
export function memberDisplaysOf(value: unknown): Record<string, string> {
  const displays: Record<string, string> = {};
  for (const item of Array.isArray(value) ? value : [value]) {
    if (!isPlainObject(item)) continue;
    const id = findValue(item);
    const display = findValue(item, 'display') ?? findValue(item, 'displayName');
    if (typeof id === 'string' && typeof display === 'string' && display !== '') displays[id] = display;
  }
  return displays;
}

export function groupIndexFields(doc: Json): GroupIndexFields {
  const fields: GroupIndexFields = { displayName: doc.displayName as string };
  if (typeof doc.externalId === 'string') fields.externalId = doc.externalId;
  return fields;
}

/** The rules a group document must satisfy after any write. */
export function validateGroup(doc: Json): GroupIndexFields {
  if (typeof doc.displayName !== 'string' || doc.displayName.trim() === '') {
    throw badRequest('invalidValue', 'displayName is required');
  }
  for (const attribute of ['displayName', 'externalId'] as const) assertVisibleText(attribute, doc[attribute]);
  return groupIndexFields(doc);
}

/**
 * A POST or PUT body -> the document to store (without id, meta or members), its index fields, and the
 * member ids (kept apart: the store holds memberships as sets).
 */
export function parseGroupInput(body: unknown): {
  doc: Record<string, unknown>;
  fields: GroupIndexFields;
  memberIds: string[];
  memberDisplays: Record<string, string>;
} {
  const { members, ...doc } = normaliseResource(GROUP_MODEL, body);
  return { doc, fields: validateGroup(doc), memberIds: memberIdsOf(members), memberDisplays: memberDisplaysOf(members) };
}

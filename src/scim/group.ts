import { canNameRecord } from '../model/resource';
import type { GroupIndexFields } from '../model/resource';
import { GROUP_MODEL } from './catalog';
import { badRequest } from './errors';
import { MAX_STRING_LENGTH } from './limits';
import { normaliseResource } from './normalise';
import { isPlainObject, type Json } from '../model/resource';
import { assertVisibleText } from './visible-text';

/**
 * Member references -> user ids. Accepts `[{value, display?, $ref?}]`, a single object, and bare strings
 * (the Microsoft suite PATCHes `"value": "string id 1"`). Duplicates collapse; order is kept.
 */
export function memberIdsOf(value: unknown, where = 'members'): string[] {
  if (value === null || value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  const ids = new Set<string>();
  for (const item of items) {
    const id = isPlainObject(item) ? findValue(item) : item;
    if (typeof id !== 'string' || id === '') {
      throw badRequest('invalidValue', `${where} must be a list of {"value": "<user id>"}`);
    }
    // An id this server could never have issued is otherwise ignored like any unknown user (Microsoft's suite
    // adds "string id 1"), but one that could name another store key, or is longer than any id, is refused.
    if (!canNameRecord(id) || id.length > MAX_STRING_LENGTH) {
      throw badRequest('invalidValue', `${where}: "${id.slice(0, 64)}" is not a user id of this server`);
    }
    ids.add(id);
  }
  return [...ids];
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

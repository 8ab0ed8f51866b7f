import type { AttributeDef, ResourceModel, SchemaModel } from './catalog';
import { badRequest } from './errors';
import { isPlainObject, type Json } from '../model/resource';

/**
 * IdP input -> canonical SCIM JSON. Attribute names are matched case-insensitively and written in their
 * canonical case; `null`, `""` and empty lists mean "absent" and are dropped; `"True"`/`"False"` become
 * booleans; a bare string where a complex attribute with a `value` is expected becomes `{value}` (Entra's
 * manager); unknown attributes and unknown schema URNs are ignored. Read-only attributes (id, meta, groups)
 * and write-only ones (password) are dropped: the client cannot set them and the bridge never stores them.
 */

/** Whether the client may set the attribute on a write (RFC 7643 §2.2 mutability, `password` excluded). */
export function isWritable(def: AttributeDef): boolean {
  return def.mutability === 'readWrite' || def.mutability === 'immutable';
}

function invalid(where: string, expected: string, value: unknown): never {
  const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
  throw badRequest('invalidValue', `${where} must be ${expected} (got ${got})`);
}

const TRUE_FALSE: Record<string, boolean> = { true: true, false: false };

function normaliseSimple(def: AttributeDef, value: unknown, where: string): unknown {
  switch (def.type) {
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const parsed = typeof value === 'string' ? TRUE_FALSE[value.trim().toLowerCase()] : undefined;
      return parsed ?? invalid(where, 'a boolean', value);
    }
    case 'integer':
    case 'decimal': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) return invalid(where, 'a number', value);
      if (def.type === 'integer' && !Number.isInteger(number)) return invalid(where, 'an integer', value);
      return number;
    }
    case 'dateTime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return invalid(where, 'a date-time', value);
      return value;
    default:
      if (typeof value !== 'string') return invalid(where, 'a string', value);
      if (def.maxLength !== undefined && value.length > def.maxLength) {
        throw badRequest('invalidValue', `${where} is ${value.length} characters long; at most ${def.maxLength} are accepted`);
      }
      return value === '' ? undefined : value;
  }
}

function normaliseComplex(def: AttributeDef, value: unknown, where: string): Json | undefined {
  const subIndex = def.subIndex ?? new Map<string, AttributeDef>();
  if (typeof value === 'string' && subIndex.has('value')) return value === '' ? undefined : { value };
  if (!isPlainObject(value)) return invalid(where, 'an object', value);
  const found = new Map<AttributeDef, unknown>();
  for (const [key, raw] of Object.entries(value)) {
    const sub = subIndex.get(key.toLowerCase());
    if (!sub || !isWritable(sub)) continue;
    const normalised = normaliseValue(sub, raw, `${where}.${sub.name}`);
    if (normalised === undefined) found.delete(sub);
    else found.set(sub, normalised);
  }
  if (found.size === 0) return undefined;
  const out: Json = {};
  for (const sub of def.subAttributes ?? []) if (found.has(sub)) out[sub.name] = found.get(sub);
  return out;
}

/** One attribute's value in canonical form, or undefined when it is absent (null, "", empty). */
export function normaliseValue(def: AttributeDef, value: unknown, where: string = def.name): unknown {
  if (value === null || value === undefined) return undefined;
  if (def.multiValued) {
    const items = Array.isArray(value) ? value : [value];
    if (def.maxEntries !== undefined && items.length > def.maxEntries) {
      throw badRequest('invalidValue', `${where} has ${items.length} entries; at most ${def.maxEntries} are accepted`);
    }
    const out = items
      .map((item, i) => (item === null ? undefined : normaliseSingle(def, item, `${where}[${i}]`)))
      .filter((item) => item !== undefined);
    return out.length === 0 ? undefined : out;
  }
  if (Array.isArray(value)) {
    // Entra's older manager form is a one-element array; an empty one clears.
    if (value.length === 0) return undefined;
    if (value.length === 1 && def.type === 'complex') return normaliseSingle(def, value[0], where);
    return invalid(where, 'a single value', value);
  }
  return normaliseSingle(def, value, where);
}

function normaliseSingle(def: AttributeDef, value: unknown, where: string): unknown {
  return def.type === 'complex' ? normaliseComplex(def, value, where) : normaliseSimple(def, value, where);
}

/** The writable attributes of one schema found in `input`, keyed by canonical name, in schema order. */
export function normaliseSchemaAttributes(schema: SchemaModel, input: Json): Json {
  const found = new Map<AttributeDef, unknown>();
  for (const [key, raw] of Object.entries(input)) {
    const def = schema.index.get(key.toLowerCase());
    if (!def || !isWritable(def) || def.name === 'schemas') continue;
    const normalised = normaliseValue(def, raw);
    if (normalised === undefined) found.delete(def);
    else found.set(def, normalised);
  }
  const out: Json = {};
  for (const def of schema.attributes) if (found.has(def)) out[def.name] = found.get(def);
  return out;
}

/**
 * A whole resource body: core attributes at the top level, each known extension under its URN (matched
 * case-insensitively). `schemas` is recomputed from what is present.
 */
export function normaliseResource(model: ResourceModel, body: unknown): Json {
  if (!isPlainObject(body)) throw badRequest('invalidSyntax', `a ${model.name} must be a JSON object`);
  const doc: Json = { schemas: [model.core.id] };
  Object.assign(doc, normaliseSchemaAttributes(model.core, body));
  for (const extension of model.extensions) {
    const key = Object.keys(body).find((k) => k.toLowerCase() === extension.idLower);
    const value = key === undefined ? undefined : body[key];
    if (value === undefined || value === null) continue;
    if (!isPlainObject(value)) invalid(extension.id, 'an object', value);
    const attributes = normaliseSchemaAttributes(extension, value);
    if (Object.keys(attributes).length === 0) continue;
    doc[extension.id] = attributes;
    (doc.schemas as string[]).push(extension.id);
  }
  return doc;
}

import { resolvePath, schemaByUrn, type AttributeDef, type ResourceModel, type SchemaModel } from './catalog';
import { badRequest } from './errors';
import { compileAst, type Predicate } from './filter';
import { parsePatchPath, type FilterAst } from './filter-parser';
import { normaliseValue } from './normalise';
import { isPlainObject, type Json } from '../model/resource';
import type { PatchOpName } from './patch-ops';
import { demoteOthers, primariesAmong } from './primary';

/**
 * One PATCH operation applied to a document in place (RFC 7644 §3.5.2), generic over the resource's schema.
 * Names match case-insensitively; values are normalised as on POST (so `"False"` and a bare-string manager
 * work); `null` or `""` clears. Callers re-validate the whole document afterwards.
 */

/** Keys of a no-path value object that describe the resource rather than change it (Okta sends `id`). */
const IGNORED_VALUE_KEYS = new Set(['id', 'schemas', 'meta']);
/** What a key of a no-path value object may look like to be read as a path; other keys are unknown attributes. */
const PLAIN_PATH = /^[\w$.:-]+$/;

function containerOf(doc: Json, model: ResourceModel, schema: SchemaModel, create: boolean): Json | undefined {
  if (schema === model.core) return doc;
  const existing = doc[schema.id];
  if (isPlainObject(existing)) return existing;
  if (!create) return undefined;
  const made: Json = {};
  doc[schema.id] = made;
  return made;
}

function setOrDelete(target: Json, key: string, value: unknown): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

/** Sub-attributes of a complex value written one by one, so that `{"givenName": ""}` clears only givenName. */
function mergeSubAttributes(target: Json, def: AttributeDef, value: Json, where: string): void {
  for (const [key, raw] of Object.entries(value)) {
    const sub = def.subIndex?.get(key.toLowerCase());
    if (!sub) continue;
    if (sub.mutability === 'readOnly') continue;
    setOrDelete(target, sub.name, normaliseValue(sub, raw, `${where}.${sub.name}`));
  }
}

/** The element an add/replace creates when a filter such as `type eq "work"` matched nothing. */
function templateFrom(filter: FilterAst, parent: AttributeDef): Json | undefined {
  if (filter.kind === 'and') {
    const left = templateFrom(filter.left, parent);
    const right = templateFrom(filter.right, parent);
    return left && right ? { ...left, ...right } : undefined;
  }
  if (filter.kind !== 'compare' || filter.op !== 'eq') return undefined;
  const sub = parent.subIndex?.get(filter.path.toLowerCase());
  return sub ? { [sub.name]: normaliseValue(sub, filter.value) } : undefined;
}

function applyWhole(op: PatchOpName, container: Json, attribute: AttributeDef, value: unknown, path: string): void {
  const current = container[attribute.name];
  if (op === 'remove') {
    if (attribute.multiValued && value !== undefined && value !== null && Array.isArray(current)) {
      const unwanted = normaliseValue(attribute, value, path) as unknown[] | undefined;
      const key = (item: unknown): unknown => (isPlainObject(item) && 'value' in item ? item.value : item);
      const drop = new Set((unwanted ?? []).map((u) => JSON.stringify(key(u))));
      setOrDelete(container, attribute.name, current.filter((item) => !drop.has(JSON.stringify(key(item)))));
    } else {
      delete container[attribute.name];
    }
    return;
  }
  if (attribute.type === 'complex' && !attribute.multiValued && isPlainObject(value)) {
    const target = isPlainObject(current) ? current : {};
    container[attribute.name] = target;
    mergeSubAttributes(target, attribute, value, path);
    return;
  }
  const normalised = normaliseValue(attribute, value, path);
  if (op === 'add' && attribute.multiValued && Array.isArray(current) && Array.isArray(normalised)) {
    // One set of serialised values, not a pairwise comparison: linear in the values on both sides.
    const seen = new Set(current.map((c) => JSON.stringify(c)));
    const added = normalised.filter((n) => {
      const text = JSON.stringify(n);
      if (seen.has(text)) return false;
      seen.add(text);
      return true;
    });
    container[attribute.name] = [...current, ...added];
    return;
  }
  setOrDelete(container, attribute.name, normalised);
}

function applySub(op: PatchOpName, container: Json, attribute: AttributeDef, sub: AttributeDef, value: unknown, path: string): void {
  const current = container[attribute.name];
  const targets = attribute.multiValued
    ? (Array.isArray(current) ? current : []).filter(isPlainObject)
    : [isPlainObject(current) ? current : undefined].filter((t): t is Json => t !== undefined);
  if (op !== 'remove' && targets.length === 0 && !attribute.multiValued) {
    const made: Json = {};
    container[attribute.name] = made;
    targets.push(made);
  }
  const normalised = op === 'remove' ? undefined : normaliseValue(sub, value, path);
  for (const target of targets) setOrDelete(target, sub.name, normalised);
}

function applyFiltered(
  op: PatchOpName,
  container: Json,
  attribute: AttributeDef,
  filter: FilterAst,
  sub: AttributeDef | undefined,
  value: unknown,
  path: string,
): void {
  if (!attribute.multiValued || attribute.type !== 'complex') {
    throw badRequest('invalidPath', `"${path}": only multi-valued complex attributes can be filtered`);
  }
  const matches: Predicate = compileAst(filter, { kind: 'element', parent: attribute });
  const elements = (Array.isArray(container[attribute.name]) ? (container[attribute.name] as unknown[]) : []).filter(isPlainObject);
  if (op === 'remove') {
    const kept = sub
      ? elements.map((e) => {
          if (matches(e)) delete e[sub.name];
          return e;
        })
      : elements.filter((e) => !matches(e));
    setOrDelete(container, attribute.name, kept.length > 0 ? kept : undefined);
    return;
  }
  let targets = elements.filter(matches);
  if (targets.length === 0) {
    // Entra replaces `emails[type eq "work"].value` on users that have no work address yet.
    const template = templateFrom(filter, attribute);
    if (!template) throw badRequest('noTarget', `"${path}" matches no value`);
    elements.push(template);
    container[attribute.name] = elements;
    targets = [template];
  }
  for (const target of targets) {
    if (sub) setOrDelete(target, sub.name, normaliseValue(sub, value, path));
    else if (isPlainObject(value)) mergeSubAttributes(target, attribute, value, path);
    else throw badRequest('invalidValue', `"${path}" needs an object value`);
  }
}

/** One operation with a path. `lenient` (for the keys of a no-path value) ignores names the schema lacks. */
function applyPath(model: ResourceModel, doc: Json, op: PatchOpName, path: string, value: unknown, lenient: boolean): void {
  const extension = schemaByUrn(model, path);
  if (extension && extension !== model.core) {
    if (op === 'remove') {
      delete doc[extension.id];
      return;
    }
    if (value === null || value === '') {
      delete doc[extension.id];
      return;
    }
    if (!isPlainObject(value)) throw badRequest('invalidValue', `"${path}" needs an object value`);
    for (const [key, v] of Object.entries(value)) applyPath(model, doc, op, `${extension.id}:${key}`, v, true);
    return;
  }
  if (lenient && !PLAIN_PATH.test(path)) return;
  const parsed = parsePatchPath(path);
  const resolved = resolvePath(model, parsed.path);
  if (!resolved) {
    if (lenient) return;
    throw badRequest('invalidPath', `"${path}" is not an attribute of ${model.name}`);
  }
  const { schema, attribute } = resolved;
  // Okta's password sync: accepted, never stored.
  if (attribute.mutability === 'writeOnly') return;
  if (attribute.mutability === 'readOnly' || attribute.name === 'schemas') {
    throw badRequest('mutability', `"${attribute.name}" cannot be modified`);
  }
  let sub = resolved.sub;
  if (parsed.sub !== undefined) {
    sub = attribute.subIndex?.get(parsed.sub.toLowerCase());
    if (!sub) throw badRequest('invalidPath', `"${path}": ${attribute.name} has no sub-attribute "${parsed.sub}"`);
  }
  if (sub?.mutability === 'readOnly') throw badRequest('mutability', `"${attribute.name}.${sub.name}" cannot be modified`);
  const container = containerOf(doc, model, schema, op !== 'remove');
  if (!container) return;
  const primaryBefore = primariesAmong(container[attribute.name]);
  if (parsed.filter) applyFiltered(op, container, attribute, parsed.filter, sub, value, path);
  else if (sub) applySub(op, container, attribute, sub, value, path);
  else applyWhole(op, container, attribute, value, path);
  if (op !== 'remove') demoteOthers(attribute, container[attribute.name], primaryBefore);
  if (container !== doc && Object.keys(container).length === 0) delete doc[schema.id];
}

/** An add/replace without a path: each key of the value object is a path (`name.givenName`, URN-qualified). */
export function applyOperation(model: ResourceModel, doc: Json, op: PatchOpName, path: string | undefined, value: unknown): void {
  if (path !== undefined) {
    applyPath(model, doc, op, path, value, false);
    return;
  }
  if (op === 'remove') throw badRequest('noTarget', 'a remove operation needs a path');
  if (!isPlainObject(value)) throw badRequest('invalidValue', `an ${op} without a path needs an object value`);
  for (const [key, v] of Object.entries(value)) {
    if (IGNORED_VALUE_KEYS.has(key.toLowerCase())) continue;
    applyPath(model, doc, op, key, v, true);
  }
}

import { modelFor, resolvePath, schemaByUrn, type ResourceModel } from './catalog';
import { compileAst, type Predicate } from './filter';
import { parsePatchPath } from './filter-parser';
import { isPlainObject, type Json } from '../model/resource';
import { GROUP_SCHEMA } from './urns';

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.9) on a rendered resource. Names are case-insensitive and
 * may be `attr`, `attr.sub`, URN-qualified, a whole extension URN, or a value filter (`emails[type eq "work"]`,
 * which Microsoft's suite uses). `schemas`, `id` and `meta` are always returned; unknown names are ignored.
 * When both lists are given, `attributes` wins.
 */

export interface ProjectionRequest {
  attributes?: string[];
  excludedAttributes?: string[];
}

/** One requested name, applied to an attribute's value or to each element of a multi-valued one. */
interface Spec {
  filter?: Predicate;
  sub?: string;
}

/** Container ('' for the core schema, else the extension URN) -> attribute -> specs; WHOLE selects a container. */
type Selection = Map<string, Map<string, Spec[]>>;

const WHOLE = '*';
const ALWAYS_RETURNED = new Set(['schemas', 'id', 'meta']);

function addSpec(selection: Selection, container: string, attribute: string, spec: Spec): void {
  let attributes = selection.get(container);
  if (!attributes) selection.set(container, (attributes = new Map()));
  attributes.set(attribute, [...(attributes.get(attribute) ?? []), spec]);
}

function selectionOf(model: ResourceModel, names: string[]): Selection {
  const selection: Selection = new Map();
  for (const name of names) {
    const schema = schemaByUrn(model, name.trim());
    if (schema) {
      addSpec(selection, schema === model.core ? '' : schema.id, WHOLE, {});
      continue;
    }
    const parsed = parsePatchPath(name);
    const resolved = resolvePath(model, parsed.path);
    if (!resolved) continue;
    const { attribute } = resolved;
    const subName = resolved.sub?.name ?? parsed.sub;
    const sub = subName === undefined ? undefined : attribute.subIndex?.get(subName.toLowerCase());
    if (subName !== undefined && !sub) continue;
    const spec: Spec = {};
    if (sub) spec.sub = sub.name;
    if (parsed.filter) spec.filter = compileAst(parsed.filter, { kind: 'element', parent: attribute });
    addSpec(selection, resolved.schema === model.core ? '' : resolved.schema.id, attribute.name, spec);
  }
  return selection;
}

const isWhole = (spec: Spec): boolean => !spec.filter && !spec.sub;

function nonEmpty<T extends Json | unknown[]>(value: T): T | undefined {
  return (Array.isArray(value) ? value.length : Object.keys(value).length) > 0 ? value : undefined;
}

function eachElement(value: unknown, apply: (element: Json) => Json | undefined): unknown {
  if (Array.isArray(value)) {
    return nonEmpty(value.map((v) => (isPlainObject(v) ? apply(v) : v)).filter((v) => v !== undefined));
  }
  return isPlainObject(value) ? apply(value) : value;
}

function keep(value: unknown, specs: Spec[]): unknown {
  if (specs.some(isWhole)) return value;
  return eachElement(value, (element) => {
    const matching = specs.filter((s) => !s.filter || s.filter(element));
    if (matching.length === 0) return undefined;
    if (matching.some((s) => !s.sub)) return element;
    return nonEmpty(Object.fromEntries(Object.entries(element).filter(([k]) => matching.some((s) => s.sub === k))));
  });
}

function drop(value: unknown, specs: Spec[]): unknown {
  if (specs.some(isWhole)) return undefined;
  return eachElement(value, (element) => {
    const matching = specs.filter((s) => !s.filter || s.filter(element));
    if (matching.some((s) => !s.sub)) return undefined;
    return nonEmpty(Object.fromEntries(Object.entries(element).filter(([k]) => !matching.some((s) => s.sub === k))));
  });
}

function applyTo(container: Json, chosen: Map<string, Spec[]> | undefined, including: boolean): Json {
  if (chosen?.has(WHOLE)) return including ? container : {};
  const out: Json = {};
  for (const [key, value] of Object.entries(container)) {
    const specs = chosen?.get(key);
    const result = specs ? (including ? keep(value, specs) : drop(value, specs)) : including ? undefined : value;
    if (result !== undefined) out[key] = result;
  }
  return out;
}

/**
 * Selections already compiled for a request, by resource: a list response projects every resource with the same
 * request object, and parsing its names (filters included) once per resource made a page cost names x resources.
 */
const compiled = new WeakMap<ProjectionRequest, Map<ResourceModel, Selection>>();

function compiledSelection(request: ProjectionRequest, model: ResourceModel, names: string[]): Selection {
  let byModel = compiled.get(request);
  if (!byModel) compiled.set(request, (byModel = new Map()));
  let selection = byModel.get(model);
  if (!selection) byModel.set(model, (selection = selectionOf(model, names)));
  return selection;
}

export function project<T extends Record<string, unknown>>(resource: T, request: ProjectionRequest): T {
  const including = request.attributes !== undefined && request.attributes.length > 0;
  const names = including ? request.attributes : request.excludedAttributes;
  if (!names || names.length === 0) return resource;
  const schemas = Array.isArray(resource.schemas) ? resource.schemas : [];
  const model = modelFor(schemas.includes(GROUP_SCHEMA) ? 'Group' : 'User');
  const selection = compiledSelection(request, model, names);
  const extensionIds = new Set(model.extensions.map((s) => s.id));
  const coreKeys: Json = {};
  const out: Json = {};
  for (const [key, value] of Object.entries(resource)) {
    if (ALWAYS_RETURNED.has(key)) continue;
    if (extensionIds.has(key)) {
      const projected = isPlainObject(value) ? applyTo(value, selection.get(key), including) : value;
      if (Object.keys(projected as Json).length > 0) out[key] = projected;
    } else {
      coreKeys[key] = value;
    }
  }
  const core = applyTo(coreKeys, selection.get(''), including);
  const result: Json = {};
  for (const key of Object.keys(resource)) {
    if (ALWAYS_RETURNED.has(key)) result[key] = resource[key];
    else if (key in core) result[key] = core[key];
    else if (key in out) result[key] = out[key];
  }
  return result as T;
}

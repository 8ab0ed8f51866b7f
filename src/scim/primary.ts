import type { AttributeDef, ResourceModel } from './catalog';
import { badRequest } from './errors';
import { isPlainObject, type Json } from '../model/resource';

/**
 * RFC 7643 §2.4: at most one value of a multi-valued attribute is `primary: true`. A POST or PUT that marks two
 * is refused; a PATCH that marks one demotes the others (RFC 7644 §3.5.2), see `demoteOthers`.
 */

function hasPrimary(def: AttributeDef): boolean {
  return def.multiValued && def.type === 'complex' && (def.subIndex?.has('primary') ?? false);
}

function isPrimary(value: unknown): boolean {
  return isPlainObject(value) && value.primary === true;
}

/** 400 invalidValue when any multi-valued attribute of the document (core or extension) has two primary values. */
export function assertSinglePrimary(model: ResourceModel, doc: Json): void {
  for (const schema of [model.core, ...model.extensions]) {
    const container = schema === model.core ? doc : doc[schema.id];
    if (!isPlainObject(container)) continue;
    for (const def of schema.attributes) {
      const values = container[def.name];
      if (!hasPrimary(def) || !Array.isArray(values)) continue;
      const primaries = values.filter(isPrimary).length;
      if (primaries > 1) {
        throw badRequest('invalidValue', `${def.name} has ${primaries} values marked primary: at most one may be (RFC 7643 §2.4)`);
      }
    }
  }
}

/** The values that are `primary: true` now: taken before a PATCH operation, for `demoteOthers` after it. */
export function primariesAmong(values: unknown): Set<unknown> {
  return new Set(Array.isArray(values) ? values.filter(isPrimary) : []);
}

/**
 * After a PATCH operation: when it made a value primary (one that was not primary before), the values that were
 * primary before become `primary: false`. An operation that marks two values itself is left for
 * `assertSinglePrimary` to refuse.
 */
export function demoteOthers(def: AttributeDef, values: unknown, primaryBefore: ReadonlySet<unknown>): void {
  if (!hasPrimary(def) || !Array.isArray(values)) return;
  const promoted = values.some((value) => isPrimary(value) && !primaryBefore.has(value));
  if (!promoted) return;
  for (const value of primaryBefore) if (values.includes(value)) (value as Json).primary = false;
}

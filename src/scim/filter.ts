import { modelFor, resolvePath, type AttributeDef, type ResourceModel, type ResourceName } from './catalog';
import { badRequest } from './errors';
import { parseFilter, type CompareOp, type FilterAst, type Literal, type SubTest } from './filter-parser';
import { isPlainObject, type Json } from '../model/resource';

/**
 * A filter bound to a resource's schema: `match` evaluates it on a rendered (or stored) resource, and
 * `lookup` names the indexed equality the caller can fetch candidates by (it must still apply `match`).
 * Strings compare case-insensitively unless the attribute is caseExact (id, externalId); dateTime attributes
 * compare chronologically; an attribute the schema does not define is treated as absent.
 */

/** `userNamePrefix`: the value is a prefix (`userName sw "x"`); every other lookup is an equality. */
export type LookupAttribute = 'userName' | 'externalId' | 'email' | 'id' | 'displayName' | 'userNamePrefix';

export interface CompiledFilter {
  lookup?: { attribute: LookupAttribute; value: string };
  match(doc: Record<string, unknown>): boolean;
}

export type Predicate = (target: unknown) => boolean;

/** Where a name is looked up: the resource's schemas, or the sub-attributes of a multi-valued attribute. */
export type Scope = { kind: 'resource'; model: ResourceModel } | { kind: 'element'; parent: AttributeDef };

/** How to read a path's values from a resource (or element), and the definition that types them. */
interface Accessor {
  read(target: unknown): unknown[];
  def?: AttributeDef;
}

const ABSENT: Accessor = { read: () => [] };

function valueSub(def: AttributeDef): AttributeDef | undefined {
  return def.subIndex?.get('value');
}

function asObject(value: unknown): Json | undefined {
  return isPlainObject(value) ? value : undefined;
}

function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** A complex attribute named without a sub-attribute compares its `value` (`emails co "@x"`, `manager eq "id"`). */
function leafOf(def: AttributeDef, sub: AttributeDef | undefined, path: string): AttributeDef {
  const leaf = sub ?? (def.type === 'complex' ? valueSub(def) : def);
  if (!leaf) throw badRequest('invalidFilter', `"${path}" is a complex attribute: name one of its sub-attributes`);
  return leaf;
}

function accessor(scope: Scope, path: string): Accessor {
  if (scope.kind === 'element') {
    // Inside `emails[...]` names are sub-attributes; some clients qualify them anyway (`emails.type`).
    const lower = path.toLowerCase();
    const prefix = `${scope.parent.name.toLowerCase()}.`;
    const def = scope.parent.subIndex?.get(lower.startsWith(prefix) ? lower.slice(prefix.length) : lower);
    if (!def) return ABSENT;
    return { def, read: (element) => listOf(asObject(element)?.[def.name]) };
  }
  const resolved = resolvePath(scope.model, path);
  if (!resolved) return ABSENT;
  const { schema, attribute, sub } = resolved;
  const isCore = schema === scope.model.core;
  const leaf = leafOf(attribute, sub, path);
  const container = (doc: unknown): Json | undefined =>
    isCore ? asObject(doc) : asObject(asObject(doc)?.[schema.id]);
  if (leaf === attribute) return { def: leaf, read: (doc) => listOf(container(doc)?.[attribute.name]) };
  return {
    def: leaf,
    read: (doc) => listOf(container(doc)?.[attribute.name]).map((item) => asObject(item)?.[leaf.name]),
  };
}

/** The elements a value path filters: the items of a multi-valued attribute (or the one complex value). */
function elementAccessor(scope: Scope, path: string): { read(target: unknown): unknown[]; parent?: AttributeDef } {
  if (scope.kind === 'element') throw badRequest('invalidFilter', `value paths cannot be nested ("${path}[")`);
  const resolved = resolvePath(scope.model, path);
  if (!resolved) return { read: () => [] };
  const { schema, attribute, sub } = resolved;
  if (sub || attribute.type !== 'complex') {
    throw badRequest('invalidFilter', `"${path}" is not a complex attribute: it cannot be filtered with [ ]`);
  }
  const isCore = schema === scope.model.core;
  return {
    parent: attribute,
    read: (doc) => {
      const container = isCore ? asObject(doc) : asObject(asObject(doc)?.[schema.id]);
      return listOf(container?.[attribute.name]);
    },
  };
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}

const ORDERING = new Set<CompareOp>(['gt', 'ge', 'lt', 'le']);
const SUBSTRING = new Set<CompareOp>(['co', 'sw', 'ew']);

function ordered(op: CompareOp, a: number | string, b: number | string): boolean {
  switch (op) {
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    default:
      return a <= b;
  }
}

/** One comparison of a single value against the literal, typed by the attribute definition. */
function comparator(op: CompareOp, literal: Literal, def: AttributeDef | undefined, path: string): Predicate {
  const type = def?.type ?? 'string';
  if (literal === null) {
    if (op === 'eq' || op === 'ne') return (v) => !isPresent(v);
    throw badRequest('invalidFilter', `"${op}" cannot compare with null`);
  }
  if (type === 'boolean') {
    if (op !== 'eq' && op !== 'ne') throw badRequest('invalidFilter', `"${op}" is not defined for boolean "${path}"`);
    const wanted = typeof literal === 'string' ? literal.toLowerCase() === 'true' : literal === true;
    return (v) => v === wanted;
  }
  if (type === 'complex' || (type === 'binary' && ORDERING.has(op))) {
    throw badRequest('invalidFilter', `"${op}" is not defined for "${path}"`);
  }
  if ((type === 'integer' || type === 'decimal') && !SUBSTRING.has(op)) {
    const wanted = Number(literal);
    if (!Number.isFinite(wanted)) throw badRequest('invalidFilter', `"${path}" compares with numbers, not "${literal}"`);
    return (v) => typeof v === 'number' && (op === 'eq' || op === 'ne' ? v === wanted : ordered(op, v, wanted));
  }
  if (type === 'dateTime' && !SUBSTRING.has(op)) {
    const wanted = Date.parse(String(literal));
    if (Number.isNaN(wanted)) throw badRequest('invalidFilter', `"${literal}" is not a date-time`);
    return (v) => {
      const time = typeof v === 'string' ? Date.parse(v) : NaN;
      return !Number.isNaN(time) && (op === 'eq' || op === 'ne' ? time === wanted : ordered(op, time, wanted));
    };
  }
  const caseExact = def?.caseExact ?? false;
  const fold = (s: string): string => (caseExact ? s : s.toLowerCase());
  const wanted = fold(String(literal));
  const test: (s: string) => boolean =
    op === 'eq' || op === 'ne'
      ? (s) => s === wanted
      : op === 'co'
        ? (s) => s.includes(wanted)
        : op === 'sw'
          ? (s) => s.startsWith(wanted)
          : op === 'ew'
            ? (s) => s.endsWith(wanted)
            : (s) => ordered(op, s, wanted);
  return (v) => typeof v === 'string' && test(fold(v));
}

/** `op` over the values of a path: any value satisfies it; `ne` holds when no value equals the literal. */
function compareAny(read: (t: unknown) => unknown[], op: CompareOp, literal: Literal, def: AttributeDef | undefined, path: string): Predicate {
  if (op === 'ne') {
    const equal = comparator('eq', literal, def, path);
    return literal === null ? (t) => read(t).some(isPresent) : (t) => !read(t).some(equal);
  }
  const test = comparator(op, literal, def, path);
  if (literal === null) return (t) => read(t).every((v) => test(v));
  return (t) => read(t).some(test);
}

function subTest(parent: AttributeDef | undefined, test: SubTest): Predicate {
  const def = parent?.subIndex?.get(test.sub.toLowerCase());
  if (!def) return () => false;
  const read = (element: unknown): unknown[] => listOf(asObject(element)?.[def.name]);
  if (test.op === 'pr') return (element) => read(element).some(isPresent);
  return compareAny(read, test.op, test.value ?? null, def, test.sub);
}

export function compileAst(ast: FilterAst, scope: Scope): Predicate {
  switch (ast.kind) {
    case 'and': {
      const left = compileAst(ast.left, scope);
      const right = compileAst(ast.right, scope);
      return (t) => left(t) && right(t);
    }
    case 'or': {
      const left = compileAst(ast.left, scope);
      const right = compileAst(ast.right, scope);
      return (t) => left(t) || right(t);
    }
    case 'not': {
      const operand = compileAst(ast.operand, scope);
      return (t) => !operand(t);
    }
    case 'present': {
      const { read } = accessor(scope, ast.path);
      return (t) => read(t).some(isPresent);
    }
    case 'compare': {
      const { read, def } = accessor(scope, ast.path);
      return compareAny(read, ast.op, ast.value, def, ast.path);
    }
    case 'valuePath': {
      const elements = elementAccessor(scope, ast.path);
      if (!elements.parent) return () => false;
      const inner = compileAst(ast.filter, { kind: 'element', parent: elements.parent });
      const extra = ast.test ? subTest(elements.parent, ast.test) : undefined;
      return (t) => elements.read(t).some((el) => inner(el) && (extra === undefined || extra(el)));
    }
  }
}

/** Indexed equality lookups per resource: path (as resolved) -> index. */
function indexedAttribute(model: ResourceModel, path: string): LookupAttribute | undefined {
  const resolved = resolvePath(model, path);
  if (!resolved || resolved.schema !== model.core) return undefined;
  const { attribute, sub } = resolved;
  if (attribute.name === 'id' || attribute.name === 'externalId') return sub ? undefined : attribute.name;
  if (model.name === 'User') {
    if (attribute.name === 'userName' && !sub) return 'userName';
    if (attribute.name === 'emails' && (!sub || sub.name === 'value')) return 'email';
  }
  if (attribute.name === 'displayName') return 'displayName';
  return undefined;
}

function equalityValue(op: CompareOp | 'pr', value: Literal | undefined): string | undefined {
  return op === 'eq' && typeof value === 'string' ? value : undefined;
}

/** An `eq` on `value` inside `emails[...]`, directly or in an AND. */
function elementValueEquality(ast: FilterAst): string | undefined {
  if (ast.kind === 'and') return elementValueEquality(ast.left) ?? elementValueEquality(ast.right);
  if (ast.kind === 'compare' && ast.path.toLowerCase() === 'value') return equalityValue(ast.op, ast.value);
  return undefined;
}

export function lookupOf(ast: FilterAst, model: ResourceModel): CompiledFilter['lookup'] {
  switch (ast.kind) {
    case 'and':
      return lookupOf(ast.left, model) ?? lookupOf(ast.right, model);
    case 'compare': {
      const attribute = indexedAttribute(model, ast.path);
      if (attribute === 'userName' && ast.op === 'sw' && typeof ast.value === 'string') return { attribute: 'userNamePrefix', value: ast.value };
      const value = equalityValue(ast.op, ast.value);
      return attribute && value !== undefined ? { attribute, value } : undefined;
    }
    case 'valuePath': {
      if (indexedAttribute(model, ast.path) !== 'email') return undefined;
      const value =
        ast.test?.sub.toLowerCase() === 'value' ? equalityValue(ast.test.op, ast.test.value) : elementValueEquality(ast.filter);
      return value === undefined ? undefined : { attribute: 'email', value };
    }
    default:
      return undefined;
  }
}

export function compileFilter(text: string, resource: ResourceName): CompiledFilter {
  const model = modelFor(resource);
  const ast = parseFilter(text);
  const match = compileAst(ast, { kind: 'resource', model });
  const lookup = lookupOf(ast, model);
  return lookup ? { lookup, match } : { match };
}

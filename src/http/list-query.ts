import { ScimError } from '../scim/errors';
import { MAX_ATTRIBUTE_NAMES, MAX_STRING_LENGTH } from '../scim/limits';

/** What a list or search asks for (RFC 7644 §3.4.2), normalised from a query string or a `.search` body. */
export interface ListQuery {
  filter?: string;
  /** 1-based. */
  startIndex: number;
  count: number;
  projection: Projection;
}

export interface Projection {
  attributes?: string[];
  excludedAttributes?: string[];
}

/** Case-insensitive parameter lookup: the Microsoft collection and others vary the case of names. */
function parameter(source: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(source).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : source[key];
}

function single(value: unknown, name: string): unknown {
  if (Array.isArray(value)) {
    if (value.length > 1) throw new ScimError(400, `"${name}" is given more than once`, 'invalidValue');
    return value[0];
  }
  return value;
}

function integer(value: unknown, name: string): number | undefined {
  const text = single(value, name);
  if (text === undefined || text === '') return undefined;
  const number = typeof text === 'number' ? text : typeof text === 'string' && /^\s*[-+]?\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(number)) throw new ScimError(400, `"${name}" must be an integer`, 'invalidValue');
  return number;
}

/** Splits "userName,emails[type eq \"a,b\"]" on the commas outside brackets and quotes. */
export function splitAttributeList(text: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"' && text[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && char === '[') depth++;
    else if (!quoted && char === ']') depth = Math.max(0, depth - 1);
    if (char === ',' && depth === 0 && !quoted) {
      names.push(current);
      current = '';
    } else current += char;
  }
  names.push(current);
  return names.map((name) => name.trim()).filter(Boolean);
}

function attributeList(value: unknown, name: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = Array.isArray(value) ? value : [value];
  if (!items.every((item) => typeof item === 'string')) throw new ScimError(400, `"${name}" must be a list of attribute names`, 'invalidValue');
  const names = items.flatMap((item) => splitAttributeList(item as string));
  if (names.length > MAX_ATTRIBUTE_NAMES) {
    throw new ScimError(400, `"${name}" names ${names.length} attributes; at most ${MAX_ATTRIBUTE_NAMES} are accepted`, 'invalidValue');
  }
  const long = names.find((attribute) => attribute.length > MAX_STRING_LENGTH);
  if (long) throw new ScimError(400, `"${name}" has a name of ${long.length} characters; at most ${MAX_STRING_LENGTH} are accepted`, 'invalidValue');
  return names.length > 0 ? names : undefined;
}

export function parseProjection(source: Record<string, unknown>): Projection {
  const attributes = attributeList(parameter(source, 'attributes'), 'attributes');
  const excludedAttributes = attributeList(parameter(source, 'excludedAttributes'), 'excludedAttributes');
  return { ...(attributes && { attributes }), ...(excludedAttributes && { excludedAttributes }) };
}

/**
 * startIndex below 1 counts as 1 and a negative count as 0 (RFC 7644 §3.4.2.4); count is capped at the page
 * size this server allows, which is also its default. sortBy/sortOrder are ignored (sorting is not offered).
 */
export function parseListQuery(source: Record<string, unknown>, maxPageSize: number): ListQuery {
  const filter = single(parameter(source, 'filter'), 'filter');
  if (filter !== undefined && typeof filter !== 'string') throw new ScimError(400, '"filter" must be a string', 'invalidFilter');
  const startIndex = Math.max(1, integer(parameter(source, 'startIndex'), 'startIndex') ?? 1);
  const count = Math.min(maxPageSize, Math.max(0, integer(parameter(source, 'count'), 'count') ?? maxPageSize));
  return {
    ...(filter !== undefined && filter.trim() !== '' && { filter }),
    startIndex,
    count,
    projection: parseProjection(source),
  };
}

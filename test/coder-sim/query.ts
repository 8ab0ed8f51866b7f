/** Query-string parsing: coderd/pagination.go, coderd/searchquery (Users), httpapi.QueryParamParser. */
import { ValidationError } from './errors';
import { parseUuid } from './ids';

export interface Pagination {
  afterId: string; // '' = none
  limit: number; // 0 = no limit
  offset: number;
}

const INT_RE = /^[+-]?\d+$/;

/** strconv.ParseInt(v, 10, 32) then "value is negative". */
function positiveInt32(v: string): { n: number } | { e: string } {
  if (!INT_RE.test(v)) return { e: `strconv.ParseInt: parsing "${v}": invalid syntax` };
  const n = Number(v);
  if (n > 2147483647 || n < -2147483648) return { e: `strconv.ParseInt: parsing "${v}": value out of range` };
  if (n < 0) return { e: 'value is negative' };
  return { n };
}

/** ParsePagination: returns the params or the validation errors ("Query parameters have invalid values."). */
export function parsePagination(q: URLSearchParams): Pagination | ValidationError[] {
  const errors: ValidationError[] = [];
  const p: Pagination = { afterId: '', limit: 0, offset: 0 };
  const after = q.get('after_id');
  if (after) {
    const u = parseUuid(after);
    if (!u) errors.push({ field: 'after_id', detail: 'Query param "after_id" must be a valid uuid' });
    else if (u !== '00000000-0000-0000-0000-000000000000') p.afterId = u;
  }
  for (const key of ['limit', 'offset'] as const) {
    const v = q.get(key);
    if (!v) continue;
    const r = positiveInt32(v);
    if ('e' in r) errors.push({ field: key, detail: `Query param "${key}" must be a valid 32-bit positive integer: ${r.e}` });
    else p[key] = r.n;
  }
  return errors.length > 0 ? errors : p;
}

/** strings.FieldsFunc split on `delim` outside double quotes; optionally strip quotes from each part. */
function splitByDelimiter(s: string, delim: string, maintainQuotes: boolean): string[] {
  const parts: string[] = [];
  let quoted = false;
  let cur = '';
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === delim) {
      if (cur !== '') parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') parts.push(cur);
  return maintainQuotes ? parts : parts.map((p) => p.replace(/^"+|"+$/g, ''));
}

/** url.Values-like multimap in insertion order. */
export type Values = Map<string, string[]>;

/** searchquery.searchTerms with the users default key ("search"). */
export function searchTerms(query: string, defaultKey: string): { values: Values } | { errors: ValidationError[] } {
  const values: Values = new Map();
  const add = (k: string, v: string) => {
    const a = values.get(k);
    if (a) a.push(v);
    else values.set(k, [v]);
  };
  for (const element of splitByDelimiter(query, ' ', true)) {
    if (element.startsWith(':') || element.endsWith(':')) {
      return { errors: [{ field: 'q', detail: `Query element "${element}" cannot start or end with ':'` }] };
    }
    const parts = splitByDelimiter(element, ':', false);
    if (parts.length === 1) add(defaultKey, element);
    else if (parts.length === 2) add(parts[0].toLowerCase(), parts[1]);
    else return { errors: [{ field: 'q', detail: `Query element "${element}" can only contain 1 ':'` }] };
  }
  return { values };
}

export interface UserFilter {
  search: string;
  name: string;
  status: string[];
  roles: string[];
  loginTypes: string[];
  lastSeenBefore?: number;
  lastSeenAfter?: number;
  createdBefore?: number;
  createdAfter?: number;
  githubComUserId: number;
}

const STATUSES = ['active', 'dormant', 'suspended'];
const LOGIN_TYPES = ['password', 'github', 'oidc', 'token', 'none'];
const RFC3339NANO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** searchquery.Users: lower-cased query; errors → "Invalid user search query." */
export function parseUserQuery(raw: string): UserFilter | ValidationError[] {
  const st = searchTerms(raw.toLowerCase(), 'search');
  if ('errors' in st) return st.errors;
  const values = st.values;
  const errors: ValidationError[] = [];
  const parsed = new Set<string>();
  const first = (k: string): string => {
    parsed.add(k);
    return values.get(k)?.[0] ?? '';
  };
  const enumList = (k: string, allowed: string[]): string[] => {
    const v = first(k);
    if (v === '') return [];
    const terms = v.split(',');
    const bad = terms.filter((t) => !allowed.includes(t));
    if (bad.length > 0) {
      errors.push({ field: k, detail: `Query param "${k}" has invalid values: ${bad.join(',')}` });
      return [];
    }
    return terms;
  };
  const time = (k: string): number | undefined => {
    const v = first(k);
    if (v === '') return undefined;
    const t = RFC3339NANO.test(v) ? Date.parse(v.toUpperCase()) : NaN;
    if (Number.isNaN(t)) {
      errors.push({
        field: k,
        detail: `Query param "${k}" must be a valid date format (2006-01-02T15:04:05.999999999Z07:00): parsing time "${v}" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse "${v}" as "2006"`,
      });
      return undefined;
    }
    return t;
  };
  const f: UserFilter = {
    search: first('search'),
    name: first('name'),
    status: enumList('status', STATUSES),
    roles: (() => {
      const v = first('role');
      return v === '' ? [] : v.split(',');
    })(),
    loginTypes: enumList('login_type', LOGIN_TYPES),
    lastSeenBefore: time('last_seen_before'),
    lastSeenAfter: time('last_seen_after'),
    createdBefore: time('created_before'),
    createdAfter: time('created_after'),
    githubComUserId: (() => {
      const v = first('github_com_user_id');
      if (v === '') return 0;
      if (!INT_RE.test(v)) {
        errors.push({ field: 'github_com_user_id', detail: `Query param "github_com_user_id" must be a valid integer: strconv.ParseInt: parsing "${v}": invalid syntax` });
        return 0;
      }
      return Number(v);
    })(),
  };
  for (const k of values.keys()) {
    if (!parsed.has(k)) errors.push({ field: k, detail: `Query param "${k}" is not a valid query param` });
  }
  return errors.length > 0 ? errors : f;
}

/** Postgres ILIKE '%term%' (with % and _ wildcards, backslash escape). */
export function ilikeContains(term: string): (s: string) => boolean {
  if (term === '') return () => true;
  if (!/[%_\\]/.test(term)) {
    const t = term.toLowerCase();
    return (s) => s.toLowerCase().includes(t);
  }
  let re = '';
  for (let i = 0; i < term.length; i++) {
    const c = term[i];
    if (c === '\\' && i + 1 < term.length) re += term[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(re, 'i');
  return (s) => rx.test(s);
}

/**
 * Request body decoding and struct-tag validation as coderd/httpapi.Read does it (encoding/json +
 * go-playground/validator), plus codersdk name rules (codersdk/name.go) and a password-strength rule.
 */
import { ApiResult, ValidationError, err } from './errors';
import { parseUuid, uuidError } from './ids';

// ---------- name rules (codersdk/name.go) ----------

const USERNAME_RE = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const byteLen = (s: string): number => Buffer.byteLength(s, 'utf8');

/** codersdk.NameValid: usernames, organization names. Returns the error text or null. */
export function nameValid(s: string): string | null {
  if (byteLen(s) > 32) return 'must be <= 32 characters';
  if (byteLen(s) < 1) return 'must be >= 1 character';
  if (s === 'new' || s === 'create') return `cannot use "${s}" as a name`;
  if (!USERNAME_RE.test(s)) return 'must be alphanumeric with hyphens';
  return null;
}

/** codersdk.GroupNameValid: <= 36 so that UUIDs fit. */
export function groupNameValid(s: string): string | null {
  if (byteLen(s) > 36) return 'must be <= 36 characters';
  if (s === 'new' || s === 'create') return `cannot use "${s}" as a name`;
  if (!USERNAME_RE.test(s)) return 'must be alphanumeric with hyphens';
  return null;
}

// Go RE2 \s is [\t\n\f\r ] and '.' excludes only \n.
const DISPLAY_RE = /^[^\t\n\f\r ]([^\n]*[^\t\n\f\r ])?$/;

/** codersdk.DisplayNameValid: empty OK, <= 64, no leading/trailing whitespace. */
export function displayNameValid(s: string): string | null {
  if (s.length === 0) return null;
  if (byteLen(s) > 64) return 'must be <= 64 characters';
  if (!DISPLAY_RE.test(s)) return 'must be alphanumeric with spaces';
  return null;
}

/** codersdk.UserRealNameValid: <= 128 bytes, no leading/trailing whitespace (strings.TrimSpace). */
export function userRealNameValid(s: string): string | null {
  if (byteLen(s) > 128) return 'must be <= 128 characters';
  if (s.trim() !== s) return 'must not have leading or trailing whitespace';
  return null;
}

// go-playground/validator's email regex, simplified to ASCII: dot-atom local part, domain with >= 1 dot.
const EMAIL_RE =
  /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u00a0-\uffff]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u00a0-\uffff]+)*@(([A-Za-z0-9\u00a0-\uffff]|[A-Za-z0-9\u00a0-\uffff][A-Za-z0-9\-._~\u00a0-\uffff]*[A-Za-z0-9\u00a0-\uffff])\.)+([A-Za-z\u00a0-\uffff]|[A-Za-z\u00a0-\uffff][A-Za-z0-9\-._~\u00a0-\uffff]*[A-Za-z\u00a0-\uffff])\.?$/;

export function emailValid(s: string): boolean {
  return EMAIL_RE.test(s);
}

// ---------- struct-tag validation ----------

export type Tag = 'required' | 'email' | 'username' | 'user_real_name' | 'group_name' | 'group_display_name' | 'omitempty';

function tagPasses(tag: Tag, v: string): boolean {
  switch (tag) {
    case 'required':
      return v !== '';
    case 'email':
      return emailValid(v);
    case 'username':
      return nameValid(v) === null;
    case 'user_real_name':
      return userRealNameValid(v) === null;
    case 'group_name':
      return groupNameValid(v) === null;
    case 'group_display_name':
      return displayNameValid(v) === null;
    default:
      return true;
  }
}

/**
 * Validate fields in struct order; the first failing tag of each field gives one entry:
 * `Validation failed for tag "<tag>" with value: "<value>"`. A nil pointer / empty value with omitempty skips.
 */
export function validateTags(checks: Array<[field: string, value: string | undefined, tags: Tag[]]>): ValidationError[] {
  const out: ValidationError[] = [];
  for (const [field, value, tags] of checks) {
    const v = value ?? '';
    if (tags[0] === 'omitempty' && v === '') continue;
    for (const tag of tags) {
      if (tag === 'omitempty') continue;
      if (!tagPasses(tag, v)) {
        out.push({ field, detail: `Validation failed for tag "${tag}" with value: "${v}"` });
        break;
      }
    }
  }
  return out;
}

export function validationFailed(v: ValidationError[]): ApiResult {
  return err(400, 'Validation failed.', undefined, v);
}

// ---------- JSON decoding (encoding/json semantics) ----------

/** `any[]`: a list kept as sent (permission objects); `string-map`: a Go map[string]string (template ACL perms). */
export type FieldType = 'string' | 'bool' | 'int' | 'string[]' | 'uuid' | 'uuid[]' | 'any[]' | 'string-map';
export interface FieldSpec {
  json: string;
  type: FieldType;
}
export type Decoded = Record<string, unknown>;

class DecodeError extends Error {}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  return typeof v; // string | object
}

const GO_TYPE: Record<FieldType, string> = {
  string: 'string',
  bool: 'bool',
  int: 'int',
  'string[]': 'string',
  uuid: 'uuid.UUID',
  'uuid[]': 'uuid.UUID',
  'any[]': 'struct',
  'string-map': 'map[string]string',
};

function decodeScalar(v: unknown, t: FieldType, where: string): unknown {
  const mismatch = (kind: string) =>
    new DecodeError(`json: cannot unmarshal ${kind} into Go struct field ${where} of type ${GO_TYPE[t]}`);
  switch (t) {
    case 'string':
    case 'string[]':
      if (typeof v !== 'string') throw mismatch(jsonKind(v));
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw mismatch(jsonKind(v));
      return v;
    case 'int':
      if (typeof v !== 'number') throw mismatch(jsonKind(v));
      if (!Number.isInteger(v)) throw mismatch(`number ${v}`);
      return v;
    case 'any[]':
      if (!Array.isArray(v)) throw mismatch(jsonKind(v));
      return v;
    case 'string-map': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw mismatch(jsonKind(v));
      for (const x of Object.values(v)) if (typeof x !== 'string') throw mismatch(jsonKind(x));
      return v;
    }
    case 'uuid':
    case 'uuid[]': {
      if (typeof v !== 'string') throw mismatch(jsonKind(v));
      const u = parseUuid(v);
      if (!u) throw new DecodeError(uuidError(v));
      return u;
    }
  }
}

function goSyntaxError(raw: string, e: unknown): string {
  if (raw.trim() === '') return 'EOF';
  const msg = e instanceof Error ? e.message : String(e);
  if (/end of (JSON )?input|Unterminated/i.test(msg)) return 'unexpected EOF';
  const m = /position (\d+)/.exec(msg);
  const ch = m ? raw[Number(m[1])] : undefined;
  return ch !== undefined
    ? `invalid character '${ch}' looking for beginning of value`
    : 'invalid character looking for beginning of value';
}

/**
 * Decode a JSON body into a struct described by `fields`. Unknown fields are ignored, keys match
 * case-insensitively (exact match preferred), null leaves the zero value. Returns the decoded fields or the
 * 400 "Request body must be valid JSON." result.
 */
export function decodeBody(raw: string, structName: string, fields: FieldSpec[]): { value: Decoded } | { error: ApiResult } {
  const fail = (detail: string) => ({ error: err(400, 'Request body must be valid JSON.', detail) });
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    return fail(goSyntaxError(raw, e));
  }
  const value: Decoded = {};
  if (parsed === null) return { value };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    return fail(`json: cannot unmarshal ${jsonKind(parsed)} into Go value of type codersdk.${structName}`);
  }
  const obj = parsed as Record<string, unknown>;
  try {
    for (const key of Object.keys(obj)) {
      const spec = fields.find((f) => f.json === key) ?? fields.find((f) => f.json.toLowerCase() === key.toLowerCase());
      if (!spec) continue;
      const v = obj[key];
      if (v === null) {
        delete value[spec.json];
        continue;
      }
      const where = `${structName}.${spec.json}`;
      if (spec.type === 'string[]' || spec.type === 'uuid[]') {
        if (!Array.isArray(v)) throw new DecodeError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${where} of type []${GO_TYPE[spec.type]}`);
        value[spec.json] = v.map((x) => (x === null ? (spec.type === 'uuid[]' ? '00000000-0000-0000-0000-000000000000' : '') : decodeScalar(x, spec.type, where)));
      } else {
        value[spec.json] = decodeScalar(v, spec.type, where);
      }
    }
  } catch (e) {
    if (e instanceof DecodeError) return fail(e.message);
    throw e;
  }
  return { value };
}

// ---------- password strength (coderd/userpassword.Validate via go-password-validator, min entropy 52) ----------

const REPLACE_CHARS = '!@$&*';
const SEP_CHARS = '_-., ';
const OTHER_SPECIAL = '"#%\'()+/:;<=>?[\\]^{|}~';

/**
 * Simplified go-password-validator: entropy = log2(character pool) * length, where runs of more than two
 * equal characters count as two; at least 52 bits and at most 64 characters.
 * Returns the error text or null. E.g. "password" fails, "SomeSecurePassword!" passes.
 */
export function passwordStrength(pw: string): string | null {
  let pool = 0;
  const has = (set: string) => [...pw].some((c) => set.includes(c));
  const hasLower = /[a-z]/.test(pw);
  const hasUpper = /[A-Z]/.test(pw);
  const hasDigit = /[0-9]/.test(pw);
  const hasReplace = has(REPLACE_CHARS);
  const hasSep = has(SEP_CHARS);
  const hasOther = has(OTHER_SPECIAL);
  if (hasLower) pool += 26;
  if (hasUpper) pool += 26;
  if (hasDigit) pool += 10;
  if (hasReplace) pool += REPLACE_CHARS.length;
  if (hasSep) pool += SEP_CHARS.length;
  if (hasOther) pool += OTHER_SPECIAL.length;
  const collapsed = pw.replace(/(.)\1{2,}/g, '$1$1');
  const entropy = pool > 0 ? Math.log2(pool) * [...collapsed].length : 0;
  if (entropy < 52) {
    const tips: string[] = [];
    if (!hasOther || !hasSep || !hasReplace) tips.push('including more special characters');
    if (!hasLower) tips.push('using lowercase letters');
    if (!hasUpper) tips.push('using uppercase letters');
    if (!hasDigit) tips.push('using numbers');
    return tips.length > 0
      ? `insecure password, try ${tips.join(', ')} or using a longer password`
      : 'insecure password, try using a longer password';
  }
  if (pw.length > 64) return 'password must be no more than 64 characters';
  return null;
}

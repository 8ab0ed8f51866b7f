/** UUIDs (google/uuid Parse semantics) and session tokens. */
import { randomBytes, randomUUID } from 'node:crypto';

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export function newId(): string {
  return randomUUID();
}

const HEX32 = /^[0-9a-fA-F]{32}$/;
const CANON = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * google/uuid.Parse: accepts xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, urn:uuid:..., {...} and 32 hex digits.
 * Returns the canonical lower-case form, or undefined.
 */
export function parseUuid(s: string): string | undefined {
  let v = s;
  if (v.length === 45 && v.slice(0, 9).toLowerCase() === 'urn:uuid:') v = v.slice(9);
  else if (v.length === 38 && v[0] === '{' && v[37] === '}') v = v.slice(1, 37);
  else if (v.length === 32 && HEX32.test(v)) {
    v = `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20)}`;
  }
  return v.length === 36 && CANON.test(v) ? v.toLowerCase() : undefined;
}

/** The error text of google/uuid for a bad UUID (used in JSON decode details). */
export function uuidError(s: string): string {
  const n = s.length;
  if (n !== 36 && n !== 38 && n !== 45 && n !== 32) return `invalid UUID length: ${n}`;
  return 'invalid UUID format';
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** cryptorand.String-like: letters and digits. */
export function randomString(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += ALNUM[bytes[i] % ALNUM.length];
  return out;
}

/** Session-token authentication (coderd/httpmw/apikey.go). */
import type { IncomingHttpHeaders } from 'node:http';
import { ApiResult, err } from './errors';
import { State, UserRec } from './state';

export const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';
export const COOKIE = 'coder_session_token';

/** Token sources in order: cookie, query parameter, Coder-Session-Token header. */
export function extractToken(headers: IncomingHttpHeaders, query: URLSearchParams): string {
  const cookie = headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const i = part.indexOf('=');
      if (i > 0 && part.slice(0, i).trim() === COOKIE) {
        const v = part.slice(i + 1).trim();
        if (v) return v;
      }
    }
  }
  const q = query.get(COOKIE);
  if (q) return q;
  const h = headers['coder-session-token'];
  return (Array.isArray(h) ? h[0] : h) ?? '';
}

export type AuthOutcome = { user: UserRec } | { error: ApiResult };

/** Resolve a token to its (non-deleted) user, or the 401 the real middleware gives. No status checks. */
export function resolveToken(state: State, token: string): AuthOutcome {
  const fail = (detail: string): AuthOutcome => ({ error: err(401, SIGNED_OUT, detail) });
  if (token === '') return fail(`Cookie "${COOKIE}" or query parameter must be provided.`);
  const parts = token.split('-');
  if (parts.length !== 2) {
    return fail(`Invalid API key format: incorrect amount of API key parts, expected 2 got ${parts.length}`);
  }
  const [id, secret] = parts;
  if (id.length !== 10) return fail(`Invalid API key format: invalid API key ID length, expected 10 got ${id.length}`);
  if (secret.length !== 22) {
    return fail(`Invalid API key format: invalid API key secret length, expected 22 got ${secret.length}`);
  }
  const key = state.tokens.get(id);
  if (!key) return fail('API key is invalid.');
  if (key.secret !== secret) return fail('API key secret is invalid.');
  if (key.expiresAt !== undefined && key.expiresAt <= state.now()) return fail(`API key expired at "${goTimeString(key.expiresAt)}".`);
  const user = state.users.get(key.userId);
  if (!user || user.deleted) return fail('API key is invalid.');
  return { user };
}

/** Status checks after the key resolved: suspended → 401; dormant → activated; last_seen_at refreshed hourly. */
export function admitUser(state: State, user: UserRec): ApiResult | undefined {
  if (user.status === 'suspended') {
    return err(401, 'User is not active (status = "suspended"). Contact an admin to reactivate your account.');
  }
  const now = state.now();
  if (user.status === 'dormant') {
    user.status = 'active';
    user.updated_at = now;
  }
  if (now - user.last_seen_at > 3_600_000) user.last_seen_at = now;
  return undefined;
}

/** Go's time.Time.String() of a UTC time, as apikey.go prints an expiry: `2026-01-02 15:04:05 +0000 UTC`. */
function goTimeString(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} +0000 UTC`;
}

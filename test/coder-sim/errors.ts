/** Response values and Coder's canned error bodies (coderd/httpapi/httpapi.go). */

export interface ValidationError {
  field: string;
  detail: string;
}

/** What a handler returns; the server turns it into an HTTP response. */
export interface ApiResult {
  status: number;
  /** JSON body (Go-encoded, trailing newline). Omitted for 204. */
  body?: unknown;
  /** Plain-text body instead of JSON (httprate's http.Error). */
  text?: string;
  headers?: Record<string, string>;
}

export interface CoderResponse {
  message: string;
  detail?: string;
  validations?: ValidationError[];
}

export function ok(body: unknown, status = 200): ApiResult {
  return { status, body };
}

export function noContent(): ApiResult {
  return { status: 204 };
}

/** codersdk.Response with omitempty on detail and validations. */
export function err(status: number, message: string, detail?: string, validations?: ValidationError[]): ApiResult {
  const body: CoderResponse = { message };
  if (detail) body.detail = detail;
  if (validations && validations.length > 0) body.validations = validations;
  return { status, body };
}

export const resourceNotFound = (): ApiResult =>
  err(404, 'Resource not found or you do not have access to this resource');

export const forbidden = (): ApiResult =>
  err(
    403,
    'Forbidden.',
    "You don't have permission to view this content. If you believe this is a mistake, please contact your administrator or try signing in with different credentials.",
  );

export const routeNotFound = (): ApiResult => err(404, 'Route not found.');

export const internalError = (detail: string): ApiResult => err(500, 'An internal server error occurred.', detail);

const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Like Go's json.Encoder with HTML escaping: JSON text plus a trailing newline. */
export function goJson(v: unknown): string {
  const s = JSON.stringify(v);
  return (/[<>&\u2028\u2029]/.test(s) ? s.replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]) : s) + '\n';
}

/** Rendered instants: a large group's answer renders the same few creation times tens of thousands of times. */
const goTimes = new Map<number, string>();
const GO_TIMES_KEPT = 10_000;

/** Go's time.RFC3339Nano rendering of a UTC instant (trailing fractional zeros trimmed). */
export function goTime(ms: number): string {
  const known = goTimes.get(ms);
  if (known !== undefined) return known;
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.678Z
  const rendered = iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
  if (goTimes.size >= GO_TIMES_KEPT) goTimes.clear();
  goTimes.set(ms, rendered);
  return rendered;
}

/** Go's zero time.Time as JSON. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

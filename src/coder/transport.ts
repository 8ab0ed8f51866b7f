import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import type { Logger } from '../log';
import { CoderApiError, CoderNetworkError, isRateLimited, isTransient, type CallSite } from './errors';
import type { Pacer } from './pacer';
import { backoffDelay, type BackoffOptions } from '../model/backoff';

/** One HTTP exchange with Coder, for metrics. `status` is 0 when no response arrived. */
/**
 * Retry-After header (delay-seconds or an HTTP-date) -> milliseconds from `nowMs`; undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

export interface CallInfo {
  method: string;
  route: string;
  status: number;
  durationMs: number;
}

export interface CoderTransportOptions {
  /** Coder's base URL, e.g. https://coder.example.com (a path prefix is kept). */
  url: string;
  /** A function when the token can change while running (re-read from CODER_SESSION_TOKEN_FILE). */
  token: string | (() => string);
  /** Limit on each attempt, from sending the request to reading the whole body. */
  timeoutMs: number;
  /** Send X-Coder-Bypass-Ratelimit (honoured for owners only; others get 428). */
  bypassRateLimit?: boolean;
  /** Keeps calls under Coder's API rate limit (see pacer.ts). Unset: no pacing. */
  pacer?: Pacer;
  /** Extra attempts for a GET that failed transiently. Writes are never retried here. */
  retries?: number;
  backoff?: BackoffOptions;
  /** Defaults to an own keep-alive Agent, closed by close(). */
  dispatcher?: Dispatcher;
  onCall?: (info: CallInfo) => void;
  logger?: Logger;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface CallOptions {
  /** Values for the `{name}` placeholders of the route template; each is URI-encoded. */
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /**
   * Reads a 2xx answer in place of `JSON.parse` of the whole text: to drain an answer the bridge does not need,
   * or to stream out the few fields it does. Error answers are always parsed (they are small).
   */
  read?: (body: ResponseBody) => Promise<unknown>;
}

export type ResponseBody = Dispatcher.ResponseData['body'];

const DEFAULT_RETRIES = 2;
const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 200, capMs: 2_000 };
const CONNECTIONS_PER_ORIGIN = 16;
const KEEP_ALIVE_MS = 30_000;
/** Coder's API limiter counts per minute; a 429 without Retry-After still means "wait for the window". */
const RATE_LIMIT_WINDOW_MS = 60_000;
const MAX_ERROR_TEXT = 500;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** Sends calls to Coder: auth headers, timeouts, error parsing, and retries of idempotent reads. */
export class CoderTransport {
  private readonly origin: string;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly retries: number;
  private readonly backoff: BackoffOptions;

  constructor(private readonly options: CoderTransportOptions) {
    const base = new URL(options.url);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.headers = {
      accept: 'application/json',
      'user-agent': 'coder-scim-bridge',
      ...(options.bypassRateLimit ? { 'x-coder-bypass-ratelimit': 'true' } : {}),
    };
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({
        connections: CONNECTIONS_PER_ORIGIN,
        keepAliveTimeout: KEEP_ALIVE_MS,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /**
   * Only GETs are retried: a write whose connection dropped after Coder committed it must be re-planned from
   * fresh state by the queue, not repeated. 429 is never retried here, so the worker can pause the whole queue.
   */
  async call<T>(method: HttpMethod, template: string, options: CallOptions = {}): Promise<T> {
    const site: CallSite = { method, route: `${method} ${template}` };
    const attempts = method === 'GET' ? this.retries + 1 : 1;
    for (let attempt = 0; ; attempt++) {
      try {
        const path = this.pathFor(template, options);
        // Coder keys its limit by the path without the query string.
        await this.options.pacer?.acquire(path.split('?')[0], this.token());
        return await this.attempt<T>(site, path, options);
      } catch (err) {
        if (attempt + 1 >= attempts || !isTransient(err) || isRateLimited(err)) throw err;
        const delayMs = backoffDelay(attempt, this.backoff);
        this.options.logger?.warn({ event: 'coder_retry', route: site.route, attempt: attempt + 1, delayMs, err }, 'retrying Coder read');
        await sleep(delayMs);
      }
    }
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private pathFor(template: string, { params = {}, query = {} }: CallOptions): string {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new TypeError(`route ${template} needs a value for {${name}}`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
    const queryString = search.toString();
    return `${this.basePath}${path}${queryString ? `?${queryString}` : ''}`;
  }

  private async attempt<T>(site: CallSite, path: string, { body, read }: CallOptions): Promise<T> {
    const started = performance.now();
    let status = 0;
    try {
      const response = await this.dispatcher.request({
        origin: this.origin,
        path,
        method: site.method as Dispatcher.HttpMethod,
        headers: { ...this.headers, 'coder-session-token': this.token(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = response.statusCode;
      const success = status >= 200 && status < 300;
      if (success && read) return (await read(response.body)) as T;
      const text = await response.body.text();
      if (success) return this.parseSuccess<T>(site, status, text);
      throw this.errorFrom(site, status, text, response.headers['retry-after']);
    } catch (err) {
      if (err instanceof CoderApiError) throw err;
      status = 0;
      throw this.networkError(site, err);
    } finally {
      this.options.onCall?.({ method: site.method, route: site.route, status, durationMs: performance.now() - started });
    }
  }

  private parseSuccess<T>(site: CallSite, status: number, text: string): T {
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CoderApiError({ ...site, status, message: 'Coder answered with a body that is not JSON', detail: this.scrub(text) });
    }
  }

  /** Coder's `{message, detail?, validations?}`; anything else (e.g. the plain-text 428) becomes the message. */
  private errorFrom(site: CallSite, status: number, text: string, retryAfter: string | string[] | undefined): CoderApiError {
    const retryAfterMs =
      status === 429 ? (parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? RATE_LIMIT_WINDOW_MS) : undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (isCoderResponse(parsed)) {
      return new CoderApiError({
        ...site,
        status,
        retryAfterMs,
        message: this.scrub(parsed.message),
        detail: typeof parsed.detail === 'string' ? this.scrub(parsed.detail) : undefined,
        validations: Array.isArray(parsed.validations) ? parsed.validations : undefined,
      });
    }
    const plain = this.scrub(text.trim().slice(0, MAX_ERROR_TEXT));
    return new CoderApiError({ ...site, status, retryAfterMs, message: plain || `HTTP ${status}` });
  }

  private networkError(site: CallSite, err: unknown): CoderNetworkError {
    const { name, code, message } = (err ?? {}) as { name?: string; code?: unknown; message?: string };
    const timedOut = name === 'TimeoutError' || (typeof code === 'string' && TIMEOUT_CODES.has(code));
    const reason = timedOut ? `timed out after ${this.options.timeoutMs} ms` : this.scrub(`${typeof code === 'string' ? `${code}: ` : ''}${message ?? String(err)}`);
    return new CoderNetworkError(site, reason, timedOut, { cause: err });
  }

  private token(): string {
    const { token } = this.options;
    return typeof token === 'function' ? token() : token;
  }

  /** Coder never echoes the token as far as we know; this keeps it that way if a proxy in between does. */
  private scrub(text: string): string {
    const token = this.token();
    return token ? text.split(token).join('[redacted]') : text;
  }
}

function isCoderResponse(value: unknown): value is { message: string; detail?: unknown; validations?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

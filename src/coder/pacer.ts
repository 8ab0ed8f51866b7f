import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';

/**
 * Keeps calls under Coder's API rate limit instead of running into it, across every replica of the bridge.
 * Coder (go-chi/httprate) counts requests per (token user, request path) in fixed one-minute windows aligned to
 * the wall clock and admits one while `prev * (window - elapsed) / window + curr + 1 <= limit`; past that it
 * answers 429 with Retry-After 60, which pauses the whole queue for a minute. The pacer runs the same estimate
 * on the same windows against a budget a little below the limit, so its shape is Coder's: after idle a full
 * window's budget goes out at once, then the steady rate the decaying previous window leaves room for.
 *
 * The state lives in Redis and one script both decides and reserves, so any number of worker processes share
 * one budget and concurrent callers get successive slots. Time comes from Redis (TIME), one clock for all
 * replicas; Coder's clock may differ from it by a little, which the budget's margin absorbs.
 */

export interface Pacer {
  /** Resolves when a request to `path` (no query string) may be sent with `token`. */
  acquire(path: string, token: string): Promise<void>;
}

/** Without Redis there is no shared budget: the call is not made, and the reconcile is retried later. */
export class PacerUnavailableError extends Error {
  readonly code = 'pacer_unavailable';
}

const WINDOW_MS = 60_000;
/**
 * The share of Coder's limit the replicas use together. The 5% left over covers skew between Redis's clock and
 * Coder's (a skew of d shifts Coder's estimate by at most budget * d / window: 3 s before it could reach the
 * limit), requests arriving a little after their slot, and the odd call of another client of the same token.
 */
const BUDGET_SHARE = 0.95;

/**
 * KEYS[1]: the (token, path) state, a hash of w (window start, ms), p and c (requests in the previous and the
 * current window), t (the latest slot handed out). ARGV: budget, window (ms).
 * Finds the earliest slot at or after both now and the latest slot (slots are handed out in order, so the
 * counts are Coder's counts at that moment), counts the request there, and returns how long to wait for it.
 */
const RESERVE = `
local budget = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'w', 'p', 'c', 't')
local start = tonumber(state[1]) or 0
local prev = tonumber(state[2]) or 0
local curr = tonumber(state[3]) or 0
local at = math.max(now, tonumber(state[4]) or 0)

local function roll(t)
  local windowStart = t - (t % window)
  if windowStart == start then return end
  if windowStart == start + window then prev = curr else prev = 0 end
  curr = 0
  start = windowStart
end

-- At most three moves: to the next window when this one is full, to the moment the previous one has decayed
-- enough, and across a window boundary when that moment is the boundary itself.
for _ = 1, 4 do
  roll(at)
  if prev * (window - (at - start)) / window + curr + 1 <= budget + 1e-9 then break end
  if curr + 1 > budget or prev == 0 then
    at = start + window
  else
    at = start + math.ceil(window - (budget - curr - 1) * window / prev)
  end
end

curr = curr + 1
redis.call('HSET', KEYS[1], 'w', start, 'p', prev, 'c', curr, 't', at)
-- Two windows after its last slot a path's counts no longer matter: the key goes, and idle paths cost nothing.
redis.call('PEXPIRE', KEYS[1], at - now + 2 * window)
return at - now
`;

interface PacerCommands {
  scimBridgePace(key: string, budget: number, windowMs: number): Promise<number>;
}

export interface RedisPacerOptions {
  redis: Redis | Cluster;
  /** REDIS_PREFIX: keys are `${prefix}:pacer:...`, in the prefix's hash slot on Redis Cluster. */
  prefix: string;
  /** Coder's limit per path and window (CODER_API_RATE_LIMIT, 512 by default). */
  limitPerMinute: number;
  /** Coder's window is one minute; tests shorten it. */
  windowMs?: number;
}

export class RedisPacer implements Pacer {
  readonly budget: number;
  private readonly windowMs: number;
  private readonly commands: PacerCommands;
  private lastToken?: { token: string; hash: string };

  constructor(private readonly options: RedisPacerOptions) {
    this.windowMs = options.windowMs ?? WINDOW_MS;
    this.budget = Math.max(1, Math.floor(options.limitPerMinute * BUDGET_SHARE));
    options.redis.defineCommand('scimBridgePace', { numberOfKeys: 1, lua: RESERVE });
    this.commands = options.redis as unknown as PacerCommands;
  }

  async acquire(path: string, token: string): Promise<void> {
    let delayMs: number;
    try {
      delayMs = await this.commands.scimBridgePace(this.key(path, token), this.budget, this.windowMs);
    } catch (err) {
      throw new PacerUnavailableError(`no slot for a Coder call: Redis did not answer (${(err as Error).message})`, { cause: err });
    }
    if (delayMs > 0) await sleep(delayMs);
  }

  /** Coder counts per token user and path; the key names the token by a hash, never the token itself. */
  private key(path: string, token: string): string {
    if (this.lastToken?.token !== token) this.lastToken = { token, hash: createHash('sha256').update(token).digest('hex').slice(0, 16) };
    return `${this.options.prefix}:pacer:${this.lastToken.hash}:${path}`;
  }
}

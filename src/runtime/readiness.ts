import type { Readiness } from '../http/health';

/**
 * /readyz answers "can this process do its job": `serve` and `all` acknowledge SCIM writes, so they need Redis
 * only (a Coder outage must not take the SCIM endpoint out of its Service: the queue carries the writes);
 * a `worker` reconciles, so it also needs the Coder preflight done and Coder accepting its token.
 * Readiness never calls Coder, and concurrent probes share one Redis ping.
 */

export type ReadinessMode = 'all' | 'serve' | 'worker';

export interface WorkerReadiness {
  preflightDone(): boolean;
  coderAuthFailing(): boolean;
}

export interface ReadinessOptions {
  mode: ReadinessMode;
  pingRedis: () => Promise<unknown>;
  worker?: WorkerReadiness;
  /** A Redis answer is reused this long. */
  cacheMs: number;
  now?: () => number;
}

/** Wraps `check`: concurrent callers share one run, and its answer is reused for `cacheMs`. */
export function sharedCheck<T>(check: () => Promise<T>, cacheMs: number, now: () => number = Date.now): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  let cached: { at: number; value: T } | undefined;
  return () => {
    if (cached && now() - cached.at < cacheMs) return Promise.resolve(cached.value);
    inFlight ??= check()
      .then((value) => {
        cached = { at: now(), value };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

export function createReadiness(options: ReadinessOptions): () => Promise<Readiness> {
  const redisUp = sharedCheck(
    () => options.pingRedis().then(
      () => true,
      () => false,
    ),
    options.cacheMs,
    options.now,
  );
  return async () => {
    if (!(await redisUp())) return { ok: false, failing: 'redis' };
    if (options.mode !== 'worker' || !options.worker) return { ok: true };
    if (!options.worker.preflightDone()) return { ok: false, failing: 'coder_preflight' };
    if (options.worker.coderAuthFailing()) return { ok: false, failing: 'coder_auth' };
    return { ok: true };
  };
}

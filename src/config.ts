import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PolicyError } from './policy/errors';
import { loadPolicyFile } from './policy/load';
import type { AccessPolicy } from './policy/schema';
import { parseAdoptGroups, type AdoptGroups } from './model/adopt-groups';
import { tokenProblems } from './token-rules';
import { parseTrustProxy, type TrustProxy } from './trust-proxy-setting';

/**
 * Environment -> typed, validated configuration. Every problem is reported as one line naming the variable,
 * and secrets may come from `*_FILE` (Kubernetes Secrets mounted as files).
 */

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
  }
}

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1h", "90s", "500ms", "0" -> milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] ?? 's'];
}

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a duration such as 30s, 15m or 1h (got "${text}")` });
    return z.NEVER;
  }
  return ms;
});

/**
 * A reconcile's lock in Redis is renewed every half of this while it runs; a killed worker's jobs are taken
 * over by another worker this long after its last renewal.
 */
export const DEFAULT_WORKER_LOCK_MS = 10_000;

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).transform((u) => u.replace(/\/+$/, ''));

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: z.string().optional(),
  REDIS_SENTINEL_NAME: z.string().default('mymaster'),
  REDIS_CLUSTER_NODES: z.string().optional(),
  REDIS_PREFIX: z.string().regex(/^[^:\s]+$/, 'must not contain ":" or spaces').default('scim-bridge'),
  CODER_URL: httpUrl,
  CODER_SESSION_TOKEN: z.string().min(1),
  CODER_ORGANIZATION: z.string().optional(),
  CODER_LOGIN_TYPE: z.enum(['oidc', 'password', 'github', 'none']).default('oidc'),
  CODER_BYPASS_RATELIMIT: bool.default(false),
  CODER_API_RATE_LIMIT: z.coerce.number().int().min(0).default(512),
  CODER_API_RATE_WINDOW: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default(60_000),
  CODER_TIMEOUT: duration.default(15_000),
  SCIM_BEARER_TOKEN: z.string().min(1),
  ADMIN_TOKEN: z.string().optional(),
  USER_DELETE_POLICY: z.enum(['suspend', 'delete']).default('suspend'),
  RESYNC_INTERVAL: duration.default(3_600_000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  WORKER_LOCK_DURATION: duration.pipe(z.number().min(1_000, 'must be at least 1s')).default(DEFAULT_WORKER_LOCK_MS),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  METRICS_OPEN: bool.default(false),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  SCIM_MAX_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(1_000),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  TRUST_PROXY: z.string().optional(),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL such as https://scim.example.com' })
    .refine((u) => !/[?#]/.test(u), 'must not hold a query or fragment')
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1_024),
  ADOPT_GROUPS: z
    .string()
    .refine((text) => !text.split(',').some((name) => name.trim() === 'Everyone'), 'must not list Everyone: the organization\'s Everyone group is never adopted')
    .optional(),
  ACCESS_POLICY_FILE: z.string().optional(),
});

export interface Config {
  port: number;
  host: string;
  redis: { url: string; prefix: string; sentinels?: { host: string; port: number }[]; sentinelName: string; clusterNodes?: { host: string; port: number }[] };
  coder: { url: string; token: string; organization?: string; loginType: 'oidc' | 'password' | 'github' | 'none'; bypassRateLimit: boolean; rateLimitPerMinute: number; rateLimitWindowMs: number; timeoutMs: number };
  scim: { tokens: string[]; maxBodyBytes: number; maxPageSize: number };
  adminToken?: string;
  userDeletePolicy: 'suspend' | 'delete';
  resyncIntervalMs: number;
  workerConcurrency: number;
  /** How long a killed worker's reconciles stay locked before another worker retries them. */
  workerLockMs: number;
  logLevel: string;
  metricsOpen: boolean;
  tls?: { certFile: string; keyFile: string };
  /** Express's 'trust proxy': which X-Forwarded-* hops to believe (client address, protocol, host). */
  trustProxy?: TrustProxy;
  /** The origin (and path prefix) the IdP reaches the bridge at, for Location and meta.location. */
  publicUrl?: string;
  /** Open connections the HTTP server holds at most. */
  maxConnections: number;
  /** Existing Coder groups the bridge may take over (ADOPT_GROUPS). */
  adoptGroups: AdoptGroups;
  /** ACCESS_POLICY_FILE, validated at start (an invalid file refuses the start, one line per problem). */
  accessPolicy?: { file: string; policy: AccessPolicy };
  /** The `*_FILE` paths of the tokens that take effect without a restart when the file changes. */
  reloadableFiles?: string[];
  /** Loads the configuration again from the same environment, re-reading every `*_FILE`. */
  reload?: () => Config;
}

/** Tokens read on every use, so a rotated Kubernetes Secret applies without a restart (REDIS_URL needs a reconnect). */
const RELOADABLE_VARIABLES = ['CODER_SESSION_TOKEN', 'SCIM_BEARER_TOKEN', 'ADMIN_TOKEN'] as const;

/** Variables that may carry a secret, and so may come from a file instead (REDIS_URL holds a password). */
const SECRET_VARIABLES = ['CODER_SESSION_TOKEN', 'SCIM_BEARER_TOKEN', 'ADMIN_TOKEN', 'REDIS_URL'] as const;

/** Every environment variable this module reads, `*_FILE` forms included (deployment manifests are checked against it). */
export const CONFIG_VARIABLES: readonly string[] = [...Object.keys(schema.shape), ...SECRET_VARIABLES.map((name) => `${name}_FILE`)];

/** Resolves `X_FILE` into `X`; both set is an error, since one would silently win. */
function resolveFileVariables(env: NodeJS.ProcessEnv, problems: string[]): Record<string, string | undefined> {
  const resolved: Record<string, string | undefined> = { ...env };
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name]) {
      problems.push(`${name} and ${name}_FILE are both set: set only one`);
      continue;
    }
    try {
      resolved[name] = readFileSync(file, 'utf8').trim();
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  for (const [key, value] of Object.entries(resolved)) if (value === '') resolved[key] = undefined;
  return resolved;
}

function hostPorts(list: string, variable: string, problems: string[]): { host: string; port: number }[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(entry);
      if (!match) problems.push(`${variable}: "${entry}" is not host:port`);
      return { host: match?.[1] ?? '', port: Number(match?.[2] ?? 0) };
    });
}

function loadAccessPolicy(file: string, problems: string[]): Config['accessPolicy'] {
  try {
    return { file, policy: loadPolicyFile(file) };
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    problems.push(...err.problems.map((problem) => `ACCESS_POLICY_FILE ${problem}`));
    return undefined;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const resolved = resolveFileVariables(env, problems);
  const parsed = schema.safeParse(resolved);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0]);
      const message = issue.code === 'invalid_type' && resolved[variable] === undefined ? 'is required' : issue.message;
      problems.push(`${variable} ${message}`);
    }
  }
  // Checked whatever else is wrong, so that the first start lists every bad variable.
  const tokens = (resolved.SCIM_BEARER_TOKEN ?? '').split(/[,\n]/).map((t) => t.trim()).filter(Boolean);
  problems.push(...tokenProblems(tokens, resolved.ADMIN_TOKEN));
  const trustProxy = resolved.TRUST_PROXY === undefined ? { value: undefined } : parseTrustProxy(resolved.TRUST_PROXY);
  if ('problem' in trustProxy) problems.push(trustProxy.problem);
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const v = parsed.data;
  if (tokens.length === 0) problems.push('SCIM_BEARER_TOKEN has no token in it');
  if (Boolean(v.TLS_CERT_FILE) !== Boolean(v.TLS_KEY_FILE)) problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  const sentinels = v.REDIS_SENTINELS ? hostPorts(v.REDIS_SENTINELS, 'REDIS_SENTINELS', problems) : undefined;
  const clusterNodes = v.REDIS_CLUSTER_NODES ? hostPorts(v.REDIS_CLUSTER_NODES, 'REDIS_CLUSTER_NODES', problems) : undefined;
  if (clusterNodes && !/^\{[^}]+\}$/.test(v.REDIS_PREFIX)) problems.push('REDIS_PREFIX must be a {hash-tag} such as {scim-bridge} on Redis Cluster');
  const accessPolicy = v.ACCESS_POLICY_FILE ? loadAccessPolicy(v.ACCESS_POLICY_FILE, problems) : undefined;
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port: v.PORT,
    host: v.HOST,
    redis: { url: v.REDIS_URL, prefix: v.REDIS_PREFIX, sentinels, sentinelName: v.REDIS_SENTINEL_NAME, clusterNodes },
    coder: {
      url: v.CODER_URL,
      token: v.CODER_SESSION_TOKEN,
      organization: v.CODER_ORGANIZATION,
      loginType: v.CODER_LOGIN_TYPE,
      bypassRateLimit: v.CODER_BYPASS_RATELIMIT,
      rateLimitPerMinute: v.CODER_API_RATE_LIMIT,
      rateLimitWindowMs: v.CODER_API_RATE_WINDOW,
      timeoutMs: v.CODER_TIMEOUT,
    },
    scim: { tokens, maxBodyBytes: v.MAX_BODY_BYTES, maxPageSize: v.SCIM_MAX_PAGE_SIZE },
    adminToken: v.ADMIN_TOKEN,
    userDeletePolicy: v.USER_DELETE_POLICY,
    resyncIntervalMs: v.RESYNC_INTERVAL,
    workerConcurrency: v.WORKER_CONCURRENCY,
    workerLockMs: v.WORKER_LOCK_DURATION,
    logLevel: v.LOG_LEVEL,
    metricsOpen: v.METRICS_OPEN,
    tls: v.TLS_CERT_FILE && v.TLS_KEY_FILE ? { certFile: v.TLS_CERT_FILE, keyFile: v.TLS_KEY_FILE } : undefined,
    trustProxy: 'value' in trustProxy ? trustProxy.value : undefined,
    publicUrl: v.PUBLIC_URL,
    maxConnections: v.MAX_CONNECTIONS,
    adoptGroups: parseAdoptGroups(v.ADOPT_GROUPS),
    accessPolicy,
    reloadableFiles: RELOADABLE_VARIABLES.flatMap((name) => env[`${name}_FILE`] || []),
    reload: () => loadConfig(env),
  };
}

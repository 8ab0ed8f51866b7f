import type { Cluster, Redis } from 'ioredis';
import { redactedUrl } from '../store/redis';
import { resolveOrganization } from '../coder/preflight';
import { CoderClient } from '../coder/client';
import type { Config } from '../config';
import { GROUPS_FEATURE } from '../coder/licence';
import { createRedis } from '../store/redis';
import { readIdpSyncOverlaps } from '../reconcile/idp-sync-settings';

/**
 * `coder-scim-bridge check`: validates what the bridge needs before it runs, one line per check, so that a
 * deployment fails at install time with a reason instead of at the first IdP push. Returns the exit code.
 */

const CHECK_TIMEOUT_MS = 10_000;

interface CheckResult {
  ok: boolean;
  detail: string;
  /** A failed check that does not stop the bridge (groups unlicensed: users still provision). */
  warning?: boolean;
  /** Printed one per line after the check's own line, each as a warning. */
  warnings?: string[];
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function checkRedis(redis: Redis | Cluster, config: Config): Promise<CheckResult> {
  const info = await withTimeout(redis.info('server'), 'Redis');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  const [major, minor] = version.split('.').map(Number);
  const tooOld = major < 6 || (major === 6 && minor < 2);
  return { ok: !tooOld, detail: `${redactedUrl(config.redis.url)} (Redis ${version}${tooOld ? ': 6.2 or later is required' : ''})` };
}

export async function runCheck(config: Config, print: (line: string) => void): Promise<number> {
  print(`ok   configuration: valid (Coder ${config.coder.url}, Redis prefix ${config.redis.prefix})`);
  const redis = createRedis(config.redis, 'bullmq');
  redis.on('error', () => undefined);
  const coder = new CoderClient({ url: config.coder.url, token: config.coder.token, timeoutMs: Math.min(config.coder.timeoutMs, CHECK_TIMEOUT_MS), retries: 0 });
  const checks: [string, () => Promise<CheckResult>][] = [
    ['redis', () => checkRedis(redis, config)],
    ['coder', async () => ({ ok: true, detail: `reachable, version ${(await coder.buildInfo()).version}` })],
    ['coder token', async () => {
      const me = await coder.me();
      const roles = me.roles.map((role) => role.name);
      const admin = roles.includes('owner') || roles.includes('user-admin');
      return { ok: admin, detail: `valid, user ${me.username} (${roles.join(', ') || 'no site roles'})${admin ? '' : ': needs the owner or user-admin role'}` };
    }],
    ['organization', async () => {
      const org = await resolveOrganization(coder, config.coder.organization);
      return { ok: true, detail: `${org.name} (${org.id})` };
    }],
    ['groups licence', async () => {
      const feature = (await coder.entitlements()).features[GROUPS_FEATURE];
      return feature?.enabled
        ? { ok: true, detail: `${GROUPS_FEATURE} enabled` }
        : { ok: false, warning: true, detail: `${GROUPS_FEATURE} not enabled: groups will not be provisioned, users will` };
    }],
    ['access policy', async () => {
      const policy = config.accessPolicy;
      if (!policy) return { ok: true, detail: 'none (ACCESS_POLICY_FILE not set): the bridge grants no roles, organizations or template access' };
      return { ok: true, detail: `${policy.file}: ${policy.policy.rules.length} rules, onSuspend ${policy.policy.onSuspend}` };
    }],
    ['idp sync', async () => {
      const base = await resolveOrganization(coder, config.coder.organization);
      const orgs = await coder.organizations();
      const warnings = await readIdpSyncOverlaps(coder, config.accessPolicy?.policy, base.name, async (name) => orgs.find((org) => org.name === name)?.id);
      return warnings.length === 0
        ? { ok: true, detail: "Coder's own IdP sync does not overlap what the bridge manages (or is not licensed)" }
        : { ok: false, warning: true, detail: `${warnings.length} overlap(s) with Coder's own IdP sync, which undoes or refuses what the bridge applies:`, warnings };
    }],
  ];
  let failed = false;
  for (const [name, check] of checks) {
    try {
      const result = await check();
      print(`${result.ok ? 'ok  ' : result.warning ? 'warn' : 'FAIL'} ${name}: ${result.detail}`);
      for (const warning of result.warnings ?? []) print(`warn ${name}: ${warning}`);
      if (!result.ok && !result.warning) failed = true;
    } catch (err) {
      print(`FAIL ${name}: ${(err as Error).message}`);
      failed = true;
    }
  }
  redis.disconnect();
  await coder.close();
  return failed ? 1 : 0;
}

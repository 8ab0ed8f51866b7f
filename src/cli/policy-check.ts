import { readFileSync } from 'node:fs';
import { CoderClient } from '../coder/client';
import type { Organization } from '../coder/types';
import { PolicyError } from '../policy/errors';
import { formatPath, loadPolicyFile } from '../policy/load';
import { BUILT_IN_ORG_ROLES, type AccessPolicy } from '../policy/schema';
import { compileGlob } from '../policy/glob';
import { readIdpSyncOverlaps } from '../reconcile/idp-sync-settings';

/**
 * `coder-scim-bridge policy check FILE`: validates an access-policy file, one line per problem naming its
 * place. With CODER_URL and a Coder token in the environment it also reports the organizations, templates
 * and organization roles the file names that Coder lacks, and warns where Coder's own IdP sync overlaps what the
 * policy grants. Returns the exit code (0 valid, 1 problems; warnings do not fail).
 */

const CHECK_TIMEOUT_MS = 10_000;

interface CoderAccess {
  url: string;
  token: string;
  /** CODER_ORGANIZATION: where groups no rule places live; unset means Coder's default organization. */
  organization?: string;
}

/** Only what the Coder checks need, so that a policy can be checked without the bridge's whole configuration. */
function coderAccessFromEnv(env: NodeJS.ProcessEnv): CoderAccess | undefined {
  const url = env.CODER_URL;
  let token = env.CODER_SESSION_TOKEN;
  if (!token && env.CODER_SESSION_TOKEN_FILE) token = readFileSync(env.CODER_SESSION_TOKEN_FILE, 'utf8').trim();
  if (!url || !token) return undefined;
  return { url: url.replace(/\/+$/, ''), token, organization: env.CODER_ORGANIZATION || undefined };
}

interface CoderFindings {
  /** Names the policy uses that Coder does not have: the file is refused. */
  problems: string[];
  /** Overlaps with Coder's own IdP sync: the policy works, but Coder will undo or refuse some of it. */
  warnings: string[];
}

/** Overlaps with Coder's own IdP sync; a Coder that cannot show its settings is a warning, not a failure. */
async function idpSyncWarnings(policy: AccessPolicy, coder: CoderClient, base: Organization, byName: Map<string, Organization>): Promise<string[]> {
  try {
    return await readIdpSyncOverlaps(coder, policy, base.name, async (name) => byName.get(name.toLowerCase())?.id);
  } catch (err) {
    return [`cannot read Coder's IdP sync settings (${(err as Error).message}): overlaps with Coder's own sync not checked`];
  }
}

async function coderFindings(policy: AccessPolicy, coder: CoderClient, defaultOrg: string | undefined): Promise<CoderFindings> {
  const orgs = await coder.organizations();
  const base = defaultOrg ? orgs.find((o) => o.id === defaultOrg || o.name.toLowerCase() === defaultOrg.toLowerCase()) : orgs.find((o) => o.is_default);
  const byName = new Map(orgs.map((o) => [o.name.toLowerCase(), o]));
  const problems: string[] = [];
  if (!base) problems.push(`CODER_ORGANIZATION: Coder has no organization "${defaultOrg}"`);

  const roleCache = new Map<string, Promise<Set<string>>>();
  const templateCache = new Map<string, Promise<string[]>>();
  const rolesOf = (id: string) => {
    if (!roleCache.has(id)) roleCache.set(id, coder.organizationRoles(id).then((roles) => new Set(roles.map((r) => r.name))));
    return roleCache.get(id)!;
  };
  const templatesOf = (id: string) => {
    if (!templateCache.has(id)) templateCache.set(id, coder.templates(id).then((templates) => templates.map((t) => t.name)));
    return templateCache.get(id)!;
  };

  for (const [r, rule] of policy.rules.entries()) {
    for (const [o, grant] of rule.grants.organizations.entries()) {
      const org = byName.get(grant.name.toLowerCase());
      const at = formatPath(['rules', r, 'grants', 'organizations', o]);
      if (!org) {
        problems.push(`${at}.name: Coder has no organization "${grant.name}"`);
        continue;
      }
      const known = await rolesOf(org.id);
      for (const [i, role] of grant.roles.entries()) {
        if (!known.has(role)) {
          const kind = (BUILT_IN_ORG_ROLES as readonly string[]).includes(role) ? 'built-in role' : 'custom role';
          problems.push(`${at}.roles[${i}]: organization "${org.name}" has no ${kind} "${role}"`);
        }
      }
    }
    const group = rule.grants.group;
    if (!group) continue;
    const at = formatPath(['rules', r, 'grants', 'group']);
    const org = group.organization === undefined ? base : byName.get(group.organization.toLowerCase());
    if (!org) {
      if (group.organization !== undefined) problems.push(`${at}.organization: Coder has no organization "${group.organization}"`);
      continue;
    }
    const names = await templatesOf(org.id);
    for (const [t, template] of group.templates.entries()) {
      const glob = compileGlob(template.name);
      if (!names.some((name) => glob.test(name))) problems.push(`${at}.templates[${t}].name: no template in organization "${org.name}" matches "${template.name}"`);
    }
  }
  return { problems, warnings: base ? await idpSyncWarnings(policy, coder, base, byName) : [] };
}

function summary(policy: AccessPolicy): string {
  const groupRules = policy.rules.filter((r) => r.grants.group).length;
  return `${policy.rules.length} rule${policy.rules.length === 1 ? '' : 's'} (${groupRules} with group grants), onSuspend: ${policy.onSuspend}`;
}

export async function runPolicyCheck(file: string, env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<number> {
  let policy: AccessPolicy;
  try {
    policy = loadPolicyFile(file);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    for (const problem of err.problems) print(problem);
    return 1;
  }
  let access: CoderAccess | undefined;
  try {
    access = coderAccessFromEnv(env);
  } catch (err) {
    print(`CODER_SESSION_TOKEN_FILE: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return 1;
  }
  if (!access) {
    print(`ok ${file}: ${summary(policy)}; not compared with Coder (set CODER_URL and CODER_SESSION_TOKEN to)`);
    return 0;
  }
  const coder = new CoderClient({ url: access.url, token: access.token, timeoutMs: CHECK_TIMEOUT_MS, retries: 0 });
  try {
    const { problems, warnings } = await coderFindings(policy, coder, access.organization);
    for (const problem of problems) print(`${file}: ${problem}`);
    for (const warning of warnings) print(`warn ${warning}`);
    if (problems.length > 0) return 1;
    print(`ok ${file}: ${summary(policy)}; every organization, template and role it names exists in Coder (${access.url})`);
    return 0;
  } catch (err) {
    print(`${file}: cannot compare with Coder at ${access.url}: ${(err as Error).message}`);
    return 1;
  } finally {
    await coder.close();
  }
}

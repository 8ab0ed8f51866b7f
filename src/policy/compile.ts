import { compileGlob, isGlob, type Glob } from './glob';
import type { AccessPolicy, GroupGrant, TemplateAccess } from './schema';

/**
 * A policy indexed for planning: exact group names and role values in maps, globs compiled once.
 * Matching one user costs one map lookup per group and role, plus one glob test per (group, glob pattern).
 */

export interface CompiledTemplateGrant {
  glob: Glob;
  access: TemplateAccess;
}

export interface CompiledRule {
  index: number;
  /** The rule's `name`, else `rules[i]`. */
  label: string;
  siteRoles: readonly string[];
  organizations: readonly { name: string; roles: readonly string[] }[];
  group?: Omit<GroupGrant, 'templates'> & { templates: readonly CompiledTemplateGrant[] };
}

export interface CompiledPolicy {
  rules: readonly CompiledRule[];
  onSuspend: AccessPolicy['onSuspend'];
  /** Organization of a group no rule places (CODER_ORGANIZATION, or Coder's default organization). */
  defaultOrganization: string;
  /** lower-cased exact group displayName -> rule indexes, ascending. */
  byGroup: ReadonlyMap<string, readonly number[]>;
  groupGlobs: readonly { glob: Glob; rule: number }[];
  byRole: ReadonlyMap<string, readonly number[]>;
}

function push(map: Map<string, number[]>, key: string, rule: number): void {
  const list = map.get(key);
  if (!list) map.set(key, [rule]);
  else if (list[list.length - 1] !== rule) list.push(rule);
}

export function compilePolicy(policy: AccessPolicy, defaultOrganization: string): CompiledPolicy {
  const byGroup = new Map<string, number[]>();
  const byRole = new Map<string, number[]>();
  const groupGlobs: { glob: Glob; rule: number }[] = [];
  const rules = policy.rules.map((rule, index): CompiledRule => {
    for (const pattern of rule.match.groups ?? []) {
      if (isGlob(pattern)) groupGlobs.push({ glob: compileGlob(pattern, { caseInsensitive: true }), rule: index });
      else push(byGroup, pattern.toLowerCase(), index);
    }
    for (const role of rule.match.roles ?? []) push(byRole, role, index);
    const group = rule.grants.group;
    return {
      index,
      label: rule.name ?? `rules[${index}]`,
      siteRoles: rule.grants.siteRoles,
      organizations: rule.grants.organizations,
      group: group && {
        ...group,
        templates: group.templates.map((t) => ({ glob: compileGlob(t.name), access: t.access })),
      },
    };
  });
  return { rules, onSuspend: policy.onSuspend, defaultOrganization, byGroup, groupGlobs, byRole };
}

/** Indexes of the rules matching one group displayName (in no particular order). */
export function rulesForGroup(policy: CompiledPolicy, displayName: string, into: Set<number> = new Set()): Set<number> {
  for (const rule of policy.byGroup.get(displayName.toLowerCase()) ?? []) into.add(rule);
  for (const { glob, rule } of policy.groupGlobs) if (glob.test(displayName)) into.add(rule);
  return into;
}

/**
 * `npm run bench:policy`: the planning cost of one user change under an access policy of 200 rules, for a
 * user in 50 groups (issue 12's target: under 1 ms), and the Coder calls a policy change costs. Prints figures.
 */
import { availableParallelism, loadavg } from 'node:os';
import { compilePolicy } from '../src/policy/compile';
import { applyUserChange, planUserAccess, planUserChange, EMPTY_USER_GRANTS, type CoderUserAccess, type UserAccess } from '../src/policy/plan';
import type { AccessPolicy } from '../src/policy/schema';
import { policyEditCalls } from './policy-e2e';
import { percentile } from './stats';

const RULES = 200;
const GROUPS = 50;
const ITERATIONS = 20_000;

/** 200 rules of every kind: exact group names, globs, app roles; site roles, org roles, group grants. */
function policy(): AccessPolicy {
  const rules: AccessPolicy['rules'] = [];
  for (let i = 0; i < RULES; i++) {
    const byRole = i % 5 === 0;
    const glob = i % 7 === 0;
    rules.push({
      name: `rule-${i}`,
      match: byRole ? { roles: [`App.Role${i}`] } : { groups: [glob ? `team-${i % 40}*` : `Team ${i}`] },
      allowOwner: false,
      grants: {
        siteRoles: i % 11 === 0 ? ['auditor'] : [],
        organizations: [{ name: `org-${i % 10}`, roles: i % 3 === 0 ? ['organization-admin'] : [`custom-${i % 4}`] }],
        group: byRole ? undefined : { organization: `org-${i % 10}`, quotaAllowance: i, templates: [{ name: `tpl-${i % 9}-*`, access: 'use' }] },
      },
    });
  }
  return { version: 1, onSuspend: 'leave', rules };
}

/** Grants that differ between two plans, counted without the planner: the site-role set, each membership, each org's role set. */
function changedGrants(a: UserAccess, b: UserAccess): number {
  const same = (x: string[] = [], y: string[] = []) => x.join() === y.join();
  let count = same(a.siteRoles, b.siteRoles) ? 0 : 1;
  for (const org of new Set([...Object.keys(a.organizations), ...Object.keys(b.organizations)])) {
    if (org === 'coder') continue;
    const inA = org in a.organizations;
    const inB = org in b.organizations;
    if (inA !== inB) count += 1 + (inA ? 0 : b.organizations[org].length > 0 ? 1 : 0);
    else if (!same(a.organizations[org], b.organizations[org])) count++;
  }
  return count;
}

function planningCost(): string[] {
  const compileStart = process.hrtime.bigint();
  const compiled = compilePolicy(policy(), 'coder');
  const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6;

  const groups = Array.from({ length: GROUPS }, (_, i) => (i % 2 === 0 ? `Team ${i * 3}` : `team-${i % 40}-squad`));
  const roles = ['App.Role0', 'App.Role5', 'App.Role10'];
  const coder: CoderUserAccess = { siteRoles: [], organizations: { coder: [] } };
  const first = planUserChange(planUserAccess(compiled, { groups, roles }), EMPTY_USER_GRANTS, coder, 'coder');
  const granted = applyUserChange(coder, first);

  // One user change: the IdP removes the user from "Team 6". Plan the user's access and the diff against its grants.
  const changed = groups.filter((group) => group !== 'Team 6');
  const samples: number[] = [];
  let calls = 0;
  // CPU time as well as wall time: on a loaded machine the wall-clock tail is other processes' time slices.
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < ITERATIONS; i++) {
    const started = process.hrtime.bigint();
    const change = planUserChange(planUserAccess(compiled, { groups: changed, roles }), first.next, granted, 'coder');
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    calls = change.calls;
  }
  const cpu = process.cpuUsage(cpuStart);
  const cpuPerPlanMs = (cpu.user + cpu.system) / 1000 / ITERATIONS;
  // A larger policy change: the user leaves half of the groups and loses the app roles.
  const before = planUserAccess(compiled, { groups, roles });
  const after = planUserAccess(compiled, { groups: groups.slice(0, GROUPS / 2), roles: [] });
  const half = planUserChange(after, first.next, granted, 'coder');
  const fmt = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
  return [
      `policy: ${RULES} rules (${compiled.groupGlobs.length} glob patterns), user in ${GROUPS} groups with ${roles.length} app roles`,
      `compile once:            ${compileMs.toFixed(2)} ms`,
      `plan one user change (${ITERATIONS} runs): mean ${fmt(samples.reduce((a, b) => a + b, 0) / samples.length)}, p50 ${fmt(percentile(samples, 50))}, p90 ${fmt(percentile(samples, 90))}, p99 ${fmt(percentile(samples, 99))} (target < 1 ms)`,
      `CPU per plan (process.cpuUsage over all runs, includes GC): ${fmt(cpuPerPlanMs)}`,
      `Coder calls: first grant of this user ${first.calls}; removing "Team 6" ${calls}; dropping half the groups and the app roles ${half.calls} for ${changedGrants(before, after)} changed grants`,
      `load average while measuring: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`,
  ];
}

async function main(): Promise<void> {
  process.stdout.write([...planningCost(), ''].join('\n'));
  process.stdout.write([...(await policyEditCalls()), ''].join('\n'));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

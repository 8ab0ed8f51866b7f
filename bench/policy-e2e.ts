import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oktaUser, startE2E, type E2E } from '../test/e2e/harness';
import { callsSince } from '../test/integration/reconcile-harness';
import { waitFor } from '../test/wait-for';
import { GROUP_SCHEMA } from '../src/scim/urns';

/**
 * The end-to-end half of `npm run bench:policy`: the Coder calls one access-policy edit costs, against the
 * simulator, through the real reload path (the file is replaced as a ConfigMap update replaces it). Issue 12's
 * target: one Coder write per changed grant. Reads are reported apart: the reload re-evaluates every resource
 * the bridge applied, and each reads Coder's side once before it changes anything.
 */

const USERS = 200;
const GROUPS = 10;
const AUDITORS = 50;
const WAIT_MS = 120_000;

const POLICY_BEFORE = `
version: 1
rules:
  - name: auditors
    match: { roles: [Coder.Auditor] }
    grants: { siteRoles: [auditor] }
  - name: engineering
    match: { groups: ["eng-*"] }
    grants:
      organizations: [{ name: research, roles: [organization-auditor] }]
      group: { organization: research, quotaAllowance: 10, templates: [{ name: "py-*", access: use }] }
`;

/**
 * The edit: the auditors rule goes (50 site-role sets), eng-0..eng-4 become organization admins instead of
 * auditors (100 org-role sets), every group's quota changes (10) and py-a becomes admin (10 ACL entries).
 */
const POLICY_AFTER = `
version: 1
rules:
  - name: engineering-leads
    match: { groups: [eng-0, eng-1, eng-2, eng-3, eng-4] }
    grants:
      organizations: [{ name: research, roles: [organization-admin] }]
  - name: engineering
    match: { groups: [eng-5, eng-6, eng-7, eng-8, eng-9] }
    grants:
      organizations: [{ name: research, roles: [organization-auditor] }]
  - name: engineering-groups
    match: { groups: ["eng-*"] }
    grants:
      group: { organization: research, quotaAllowance: 20, templates: [{ name: py-a, access: admin }, { name: py-b, access: use }] }
`;
const CHANGED_GRANTS = AUDITORS + USERS / 2 + GROUPS + GROUPS;


export async function policyEditCalls(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-policy-'));
  const file = join(dir, 'access-policy.yaml');
  writeFileSync(file, POLICY_BEFORE);
  let research = '';
  const templates: Record<string, string> = {};
  const e2e: E2E = await startE2E({
    env: (sim) => {
      research = sim.direct.createOrganization('research');
      for (const name of ['py-a', 'py-b', 'r-studio']) templates[name] = sim.direct.createTemplate(name, research);
      return { ACCESS_POLICY_FILE: file };
    },
  });
  try {
    const userIds: string[] = [];
    for (let i = 0; i < USERS; i++) {
      const roles = i < AUDITORS ? [{ value: 'Coder.Auditor', primary: true }] : [];
      const reply = await e2e.scim('POST', '/Users', oktaUser(`policy-bench-${i}@example.com`, 'Bench', `User${i}`, { roles }));
      if (reply.status !== 201) throw new Error(`POST /Users answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      userIds.push(reply.body.id);
    }
    for (let g = 0; g < GROUPS; g++) {
      const members = userIds.slice(g * (USERS / GROUPS), (g + 1) * (USERS / GROUPS)).map((value) => ({ value }));
      const reply = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: `eng-${g}`, members });
      if (reply.status !== 201) throw new Error(`POST /Groups answered ${reply.status}`);
    }
    const { sim } = e2e;
    const coderUser = (i: number) => sim.users().find((u) => u.email === `policy-bench-${i}@example.com`);
    const researchGroups = () => sim.groups(research);
    const holds = (i: number, site: string[], orgRoles: string[]) => {
      const user = coderUser(i);
      if (!user) return false;
      const roles = sim.roles(user.id);
      return roles.site.join() === site.join() && (roles.organizations[research] ?? []).join() === orgRoles.join();
    };
    await waitFor(
      () =>
        researchGroups().length === GROUPS &&
        researchGroups().every((g) => g.members.size === USERS / GROUPS && g.quota_allowance === 10) &&
        Array.from({ length: USERS }, (_, i) => holds(i, i < AUDITORS ? ['auditor'] : [], ['organization-auditor'])).every(Boolean),
      WAIT_MS,
      'the first policy applied',
    );
    await e2e.waitForConvergence(WAIT_MS);
    const before = sim.calls();
    const writesBefore = sim.writeCalls();

    const started = Date.now();
    // As the kubelet updates a ConfigMap volume: the new content appears in one rename.
    writeFileSync(join(dir, 'next.yaml'), POLICY_AFTER);
    renameSync(join(dir, 'next.yaml'), file);
    const leads = new Set(researchGroups().filter((g) => /^eng-[0-4]$/.test(g.name)).flatMap((g) => [...g.members]));
    await waitFor(
      () =>
        researchGroups().every(
          (g) => g.quota_allowance === 20 && sim.templateAcl(templates['py-a']).groups[g.id] === 'admin' && sim.templateAcl(templates['py-b']).groups[g.id] === 'use',
        ) && Array.from({ length: USERS }, (_, i) => holds(i, [], leads.has(coderUser(i)!.id) ? ['organization-admin'] : ['organization-auditor'])).every(Boolean),
      WAIT_MS,
      'the edited policy applied',
    );
    await e2e.waitForConvergence(WAIT_MS);
    const elapsed = Date.now() - started;
    const calls = callsSince(before, sim.calls());
    const writes = sim.writeCalls() - writesBefore;
    const reads = Object.values(calls).reduce((sum, n) => sum + n, 0) - writes;
    return [
      `policy edit end to end (${USERS} users in ${GROUPS} groups, reload by file replacement): applied in ${elapsed} ms`,
      `  changed grants ${CHANGED_GRANTS}, Coder writes ${writes} = ${(writes / CHANGED_GRANTS).toFixed(2)} per changed grant (target 1.00)`,
      `  Coder reads ${reads} (${USERS + GROUPS} resources re-evaluated)`,
      ...Object.entries(calls)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([route, n]) => `    ${String(n).padStart(5)}  ${route}`),
    ];
  } finally {
    await e2e.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

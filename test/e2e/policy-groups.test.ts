import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge, type Bridge } from '../../src/bridge';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import type { AppliedGroupState } from '../../src/reconcile/plan';
import type { CoderSim, SimGroup } from '../coder-sim';
import { api } from '../coder-sim/helpers';
import { waitFor } from '../wait-for';
import { oktaUser, PATCH_OP, startE2E, type BridgeLauncher, type E2E } from './harness';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * Issue 12, the group side: the access policy gives a group its template access (use/admin, globs) and quota,
 * places it in another organization, and a policy edit takes back only what the bridge granted, at one Coder
 * write per changed grant.
 */


let dir: string;
let policyFile: string;
let e2e: E2E;
let bridge: Bridge | undefined;
let bridgeEnv: Record<string, string>;

/**
 * The bridge in this process, restartable on the same origin: a restart reads ACCESS_POLICY_FILE again, and a
 * policy that differs from the one applied before re-queues every applied user and group (runtime/policy-reload.ts).
 */
const launch: BridgeLauncher = async (env) => {
  bridgeEnv = env;
  bridge = await startBridge(loadConfig(env), 'all', createLogger('silent'));
  return { origin: bridge.origin, close: () => bridge!.close() };
};

async function restartWithPolicy(text: string, env: Record<string, string> = {}): Promise<void> {
  writeFileSync(policyFile, text);
  await bridge!.close();
  bridgeEnv = { ...bridgeEnv, ...env };
  bridge = await startBridge(loadConfig(bridgeEnv), 'all', createLogger('silent'));
}

async function start(policy: string, prepare: (sim: CoderSim) => void = () => undefined): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'policy-groups-'));
  policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, policy);
  e2e = await startE2E({
    launch,
    env: (sim) => {
      prepare(sim);
      return { ACCESS_POLICY_FILE: policyFile };
    },
  });
}

afterEach(async () => {
  await e2e.close();
  rmSync(dir, { recursive: true, force: true });
});

async function scimUser(userName: string): Promise<string> {
  const reply = await e2e.scim('POST', '/Users', oktaUser(userName, 'Test', 'User'));
  expect(reply.status).toBe(201);
  return reply.body.id;
}

async function scimGroup(displayName: string, memberIds: string[]): Promise<string> {
  const reply = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, members: memberIds.map((value) => ({ value })) });
  expect(reply.status).toBe(201);
  return reply.body.id;
}

async function appliedGroup(id: string): Promise<AppliedGroupState | undefined> {
  return (await e2e.store.getSync<AppliedGroupState>('group', id))?.applied;
}

function simGroup(coderId: string | undefined): SimGroup | undefined {
  return e2e.sim.groups().find((group) => group.id === coderId);
}

const POLICY_V1 = `
version: 1
rules:
  - name: engineering
    match: {groups: ["Engineering"]}
    grants:
      group:
        quotaAllowance: 50
        templates:
          - {name: "dev-*", access: use}
          - {name: ops-db, access: admin}
`;

// The quota is no longer set; ops-db is no longer granted; dev-* becomes admin; manual-* is asked for, but the
// group's entry there was made by hand, so it is not the bridge's to change.
const POLICY_V2 = `
version: 1
rules:
  - name: engineering
    match: {groups: ["Engineering"]}
    grants:
      group:
        templates:
          - {name: "dev-*", access: admin}
          - {name: "manual-*", access: admin}
`;

test('template ACL and quota follow the policy; an edit takes back only what the bridge granted, one write per changed grant', async () => {
  const templates: Record<string, string> = {};
  await start(POLICY_V1, (sim) => {
    for (const name of ['dev-go', 'dev-python', 'ops-db', 'manual-tools', 'other']) templates[name] = sim.direct.createTemplate(name);
  });
  const alice = await scimUser('alice@example.com');
  const groupId = await scimGroup('Engineering', [alice]);
  await e2e.waitForConvergence(30_000);

  const applied = (await appliedGroup(groupId))!;
  const coderId = applied.coderId;
  await waitFor(async () => (await appliedGroup(groupId))?.accessKey !== undefined, 10_000, 'the grants applied');
  expect(simGroup(coderId)!.quota_allowance).toBe(50);
  const aclOf = (name: string) => e2e.sim.templateAcl(templates[name]).groups[coderId];
  expect([aclOf('dev-go'), aclOf('dev-python'), aclOf('ops-db'), aclOf('manual-tools'), aclOf('other')]).toEqual(['use', 'use', 'admin', undefined, undefined]);
  // Coder's own grants stay: new templates give the Everyone group `use`.
  expect(e2e.sim.templateAcl(templates['dev-go']).groups[e2e.sim.defaultOrgId]).toBe('use');

  // By hand: the group gets `use` on manual-tools, and its quota is raised.
  expect((await api(e2e.sim, 'PATCH', `/templates/${templates['manual-tools']}/acl`, { group_perms: { [coderId]: 'use' } })).status).toBe(200);
  expect((await api(e2e.sim, 'PATCH', `/groups/${coderId}`, { quota_allowance: 75 })).status).toBe(200);

  // Counted from before the restart: the reload queues the group as soon as the bridge is up.
  e2e.sim.resetCalls();
  await restartWithPolicy(POLICY_V2);
  await waitFor(() => aclOf('ops-db') === undefined && aclOf('dev-go') === 'admin' && aclOf('dev-python') === 'admin', 20_000, 'the edited policy applied');
  await e2e.waitForConvergence(30_000);

  expect([aclOf('dev-go'), aclOf('dev-python'), aclOf('ops-db'), aclOf('manual-tools'), aclOf('other')]).toEqual(['admin', 'admin', undefined, 'use', undefined]);
  expect(simGroup(coderId)!.quota_allowance).toBe(75);
  // Three grants changed (dev-go, dev-python, ops-db): three Coder writes, nothing else (the user re-evaluated
  // by the reload, whose access did not change, costs none).
  expect(e2e.sim.writeCalls()).toBe(3);
  expect((await appliedGroup(groupId))!.access).toEqual({ templates: { [templates['dev-go']]: 'admin', [templates['dev-python']]: 'admin' } });

  // The same ask again (a member change): no Coder read of the grants, one PATCH for the member.
  const bob = await scimUser('bob@example.com');
  await e2e.waitForConvergence(30_000);
  e2e.sim.resetCalls();
  expect((await e2e.scim('PATCH', `/Groups/${groupId}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: bob }] }] })).status).toBe(204);
  await e2e.waitForConvergence(30_000);
  expect(e2e.sim.calls()).toEqual({ 'PATCH /api/v2/groups/{group}': 1 });
});

const RESEARCH_POLICY = `
version: 1
rules:
  - match: {groups: ["Research*"]}
    grants:
      group:
        organization: research
        quotaAllowance: 5
        displayName: Research (all teams)
        templates: [{name: lab, access: use}]
`;

test('a group placed in a second organization lands there with its grants and, once their users joined it, its members; an edit moves a group', async () => {
  let research = '';
  let lab = '';
  await start(RESEARCH_POLICY, (sim) => {
    research = sim.direct.createOrganization('research');
    lab = sim.direct.createTemplate('lab', research);
  });
  const carol = await scimUser('carol@example.com');
  const groupId = await scimGroup('Research Team', [carol]);
  await waitFor(async () => (await appliedGroup(groupId))?.accessKey !== undefined, 20_000, 'the group placed and granted');

  const applied = (await appliedGroup(groupId))!;
  expect(applied.organizationId).toBe(research);
  const group = simGroup(applied.coderId)!;
  expect(group).toMatchObject({ organization_id: research, display_name: 'Research (all teams)', quota_allowance: 5 });
  expect(e2e.sim.groups(e2e.sim.defaultOrgId).some((g) => g.name === group.name)).toBe(false);
  expect(e2e.sim.templateAcl(lab).groups[applied.coderId]).toBe('use');
  // A member is added only once the user is a member of the group's organization: the user's access step joins
  // it (the group's organization is part of the user's access) and re-queues the group, which adds it then.
  const carolInCoder = (await e2e.store.getSync<{ coderId: string }>('user', carol))!.applied!.coderId;
  await waitFor(() => simGroup(applied.coderId)!.members.has(carolInCoder), 20_000, 'carol in the research group');
  expect(e2e.sim.orgMembers(research)).toContain(carolInCoder);
  expect((await e2e.store.scanMemberChanges(groupId, '0', 100)).items).toEqual([]);

  // Moved by a policy edit: made in the new organization, and the group the bridge made in the old one deleted.
  const opsId = await scimGroup('Ops', [carol]);
  await waitFor(async () => (await appliedGroup(opsId))?.membersTracked === true, 20_000, 'Ops in the default organization');
  const opsBefore = (await appliedGroup(opsId))!;
  expect(simGroup(opsBefore.coderId)!.members.has(carolInCoder)).toBe(true);
  await restartWithPolicy(`${RESEARCH_POLICY}  - match: {groups: [Ops]}\n    grants: {group: {organization: research}}\n`);
  await waitFor(async () => (await appliedGroup(opsId))?.organizationId === research, 20_000, 'Ops moved');
  await waitFor(() => simGroup(opsBefore.coderId) === undefined, 10_000, 'the old Ops group deleted');
  const opsAfter = (await appliedGroup(opsId))!;
  expect(opsAfter.retiring).toBeUndefined();
  expect(simGroup(opsAfter.coderId)).toMatchObject({ organization_id: research, name: opsBefore.name });
  await waitFor(() => simGroup(opsAfter.coderId)!.members.has(carolInCoder), 20_000, 'carol in the moved Ops group');
});

const FOLLOW_POLICY = `
version: 1
rules:
  - match: {groups: ["Research*"]}
    grants: {group: {organization: research}}
  - match: {groups: [Archive]}
    grants: {siteRoles: [auditor]}
  - match: {groups: [Legacy]}
    grants: {group: {templates: [{name: "base-*", access: use}]}}
`;

test("a group's rename and deletion re-queue its members, whose organizations and roles follow; an adopted group moved elsewhere is let go, only the bridge's grants taken back", async () => {
  let research = '';
  let legacy: SimGroup | undefined;
  let baseTemplate = '';
  let handTemplate = '';
  await start(FOLLOW_POLICY, (sim) => {
    research = sim.direct.createOrganization('research');
    legacy = sim.direct.createGroup({ name: 'Legacy' });
    baseTemplate = sim.direct.createTemplate('base-tools');
    handTemplate = sim.direct.createTemplate('hand-tools');
  });
  const dave = await scimUser('dave@example.com');
  const groupId = await scimGroup('Research Lab', [dave]);
  const daveInCoder = async () => (await e2e.store.getSync<{ coderId: string }>('user', dave))?.applied?.coderId;
  await waitFor(async () => simGroup((await appliedGroup(groupId))?.coderId)?.members.has((await daveInCoder())!) === true, 20_000, 'dave in Research Lab');
  const coderDave = (await daveInCoder())!;
  expect(e2e.sim.orgMembers(research)).toContain(coderDave);
  const before = (await appliedGroup(groupId))!;

  // Renamed to a name the research rule does not match: the group comes back to the default organization, dave
  // leaves the organization the bridge made him join, and gains what the new name grants.
  expect((await e2e.scim('PATCH', `/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Archive' }] })).status).toBe(204);
  await waitFor(() => e2e.sim.roles(coderDave).site.includes('auditor') && !e2e.sim.orgMembers(research).includes(coderDave), 20_000, 'dave follows the rename');
  await waitFor(async () => (await appliedGroup(groupId))?.organizationId === undefined && simGroup(before.coderId) === undefined, 20_000, 'the group back home');
  await waitFor(async () => simGroup((await appliedGroup(groupId))!.coderId)?.members.has(coderDave) === true, 20_000, 'dave in Archive');

  // Deleted: dave loses what the group granted.
  expect((await e2e.scim('DELETE', `/Groups/${groupId}`)).status).toBe(204);
  await waitFor(() => !e2e.sim.roles(coderDave).site.includes('auditor'), 20_000, 'dave follows the deletion');

  // An adopted group (ADOPT_GROUPS) that a policy edit places elsewhere: made anew there; the old one is let go with
  // its members and hand-made grants, only what the bridge granted it is taken back.
  await restartWithPolicy(FOLLOW_POLICY, { ADOPT_GROUPS: 'Legacy' });
  expect((await api(e2e.sim, 'PATCH', `/templates/${handTemplate}/acl`, { group_perms: { [legacy!.id]: 'admin' } })).status).toBe(200);
  const legacyId = await scimGroup('Legacy', [dave]);
  await waitFor(async () => (await appliedGroup(legacyId))?.accessKey !== undefined, 20_000, 'Legacy adopted and granted');
  expect(await appliedGroup(legacyId)).toMatchObject({ coderId: legacy!.id, adopted: true, access: { templates: { [baseTemplate]: 'use' } } });
  expect(e2e.sim.templateAcl(baseTemplate).groups[legacy!.id]).toBe('use');
  await restartWithPolicy(FOLLOW_POLICY.replace('["Research*"]', '["Research*", Legacy]'), { ADOPT_GROUPS: 'Legacy' });
  await waitFor(async () => (await appliedGroup(legacyId))?.organizationId === research, 20_000, 'Legacy made in research');
  await waitFor(async () => (await appliedGroup(legacyId))?.retiring === undefined, 20_000, 'the adopted group let go');
  expect((await appliedGroup(legacyId))!.coderId).not.toBe(legacy!.id);
  expect(simGroup(legacy!.id)).toMatchObject({ organization_id: e2e.sim.defaultOrgId, name: 'Legacy' });
  expect(simGroup(legacy!.id)!.members.has(coderDave)).toBe(true);
  expect(e2e.sim.templateAcl(baseTemplate).groups[legacy!.id]).toBeUndefined();
  expect(e2e.sim.templateAcl(handTemplate).groups[legacy!.id]).toBe('admin');
});

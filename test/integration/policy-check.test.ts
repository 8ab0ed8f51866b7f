/** `coder-scim-bridge policy check FILE`, alone and against a (simulated) Coder. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPolicyCheck } from '../../src/cli/policy-check';
import { loadConfig, ConfigError } from '../../src/config';
import { startCoderSim, type CoderSim } from '../coder-sim';

const dir = mkdtempSync(join(tmpdir(), 'policy-check-'));
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

async function check(file: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runPolicyCheck(file, env, (line) => lines.push(line));
  return { code, lines };
}

const POLICY = `version: 1
rules:
  - match: {groups: [DS]}
    grants:
      organizations:
        - name: data-science
          roles: [organization-admin, reviewer, ghost-role]
  - match: {groups: ["py-*"]}
    grants:
      group:
        organization: data-science
        templates: [{name: "python-*", access: use}, {name: rust, access: admin}]
  - match: {groups: [Missing]}
    grants:
      organizations: [{name: nowhere}]
`;

let sim: CoderSim;
beforeAll(async () => {
  sim = await startCoderSim();
  const ds = sim.direct.createOrganization('data-science');
  sim.direct.createTemplate('python-gpu', ds);
  sim.direct.createTemplate('rust', sim.defaultOrgId); // in the wrong organization
  const res = await fetch(`${sim.url}/api/v2/organizations/${ds}/members/roles`, {
    method: 'POST',
    headers: { 'Coder-Session-Token': sim.token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'reviewer' }),
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await sim.close();
});

test('an invalid file: one line per problem, exit 1', async () => {
  const { code, lines } = await check(write('bad.yaml', 'version: 1\nrules:\n  - match: {roles: [x]}\n    grants: {siteRoles: [root]}\n'));
  expect(code).toBe(1);
  expect(lines).toEqual([`${dir}/bad.yaml:4: rules[0].grants.siteRoles[0]: must be one of "user-admin", "template-admin", "auditor", "owner" (got "root")`]);
});

test('a valid file without Coder configured: exit 0 and a summary', async () => {
  const { code, lines } = await check(write('ok.yaml', POLICY));
  expect(code).toBe(0);
  expect(lines).toEqual([expect.stringMatching(/^ok .*ok\.yaml: 3 rules \(1 with group grants\), onSuspend: leave; not compared with Coder/)]);
});

test('with Coder: organizations, templates and roles the file names that Coder lacks', async () => {
  const file = write('coder.yaml', POLICY);
  const { code, lines } = await check(file, { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token });
  expect(code).toBe(1);
  expect(lines).toEqual([
    `${file}: rules[0].grants.organizations[0].roles[2]: organization "data-science" has no custom role "ghost-role"`,
    `${file}: rules[1].grants.group.templates[1].name: no template in organization "data-science" matches "rust"`,
    `${file}: rules[2].grants.organizations[0].name: Coder has no organization "nowhere"`,
  ]);
  const fixed = write('fixed.yaml', POLICY.replace(', ghost-role', '').replace(', {name: rust, access: admin}', '').replace('name: nowhere', 'name: coder'));
  const good = await check(fixed, { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token });
  expect(good.lines).toEqual([expect.stringMatching(/every organization, template and role it names exists in Coder/)]);
  expect(good.code).toBe(0);
});

test("with Coder: a warning, not a failure, where Coder's own IdP sync overlaps the policy", async () => {
  const file = write('sync.yaml', POLICY.replace(', ghost-role', '').replace(', {name: rust, access: admin}', '').replace('name: nowhere', 'name: coder'));
  const ds = (await (await fetch(`${sim.url}/api/v2/organizations/data-science`, { headers: { 'Coder-Session-Token': sim.token } })).json()) as { id: string };
  const patch = (body: unknown) =>
    fetch(`${sim.url}/api/v2/organizations/${ds.id}/settings/idpsync/roles`, {
      method: 'PATCH',
      headers: { 'Coder-Session-Token': sim.token, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  expect((await patch({ field: 'roles', mapping: {} })).status).toBe(200);
  try {
    const { code, lines } = await check(file, { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.token });
    expect(code).toBe(0);
    expect(lines).toEqual([
      expect.stringMatching(/^warn organization "data-science": Coder's role sync is on \(field "roles"\)/),
      expect.stringMatching(/^ok .*every organization, template and role it names exists in Coder/),
    ]);
  } finally {
    await patch({ field: '', mapping: {} });
  }
});

test('ACCESS_POLICY_FILE: an invalid file is refused at start with the same lines', () => {
  const env = { CODER_URL: 'http://127.0.0.1:1', CODER_SESSION_TOKEN: 't', SCIM_BEARER_TOKEN: 'policy-check-test-token-0123456789abcdefghijklmnop' };
  const bad = write('start.yaml', 'version: 2\n');
  try {
    loadConfig({ ...env, ACCESS_POLICY_FILE: bad });
    throw new Error('expected a ConfigError');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([`ACCESS_POLICY_FILE ${bad}:1: version: must be one of 1 (got 2)`]);
  }
  expect(loadConfig({ ...env, ACCESS_POLICY_FILE: write('good.yaml', POLICY) }).accessPolicy?.policy.rules).toHaveLength(3);
  expect(loadConfig(env).accessPolicy).toBeUndefined();
});

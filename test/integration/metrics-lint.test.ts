import { spawnSync } from 'node:child_process';
import { request } from 'undici';
import { oktaUser, startE2E, type E2E } from '../e2e/harness';
import { announceSkip, underCI } from '../outside-material';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * /metrics, rendered after real traffic, passes `promtool check metrics` (Prometheus' own linter: names,
 * units, _total suffixes, HELP and TYPE lines). promtool comes with the Debian package `prometheus`;
 * .ci/run installs it, so in CI a missing promtool is a failure, not a skip.
 */

const promtoolInstalled = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const runLint = promtoolInstalled || underCI;
if (!runLint) announceSkip('metrics-lint test', 'promtool is not installed (apt-get install -y prometheus); CI installs it and runs this test');

(runLint ? describe : describe.skip)('metrics exposition', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(() => e2e.close());

  test('passes promtool check metrics after SCIM traffic and reconciles', async () => {
    const user = await e2e.scim('POST', '/Users', oktaUser('lint.user@example.com', 'Lint', 'User'));
    expect(user.status).toBe(201);
    const group = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Lint Team', members: [{ value: user.body.id }] });
    expect(group.status).toBe(201);
    expect((await e2e.scim('GET', '/Users/no-such-user')).status).toBe(404);
    await e2e.waitForConvergence(15_000);

    const reply = await request(`${e2e.bridge.origin}/metrics`, { headers: { authorization: `Bearer ${e2e.adminToken}` } });
    const exposition = await reply.body.text();
    expect(reply.statusCode).toBe(200);
    // The traffic above is in it, so the linter sees labelled samples, not only empty families.
    expect(exposition).toMatch(/coder_scim_bridge_reconciles_total\{kind="user",outcome="applied"\} 1/);
    expect(exposition).toMatch(/coder_scim_bridge_coder_requests_total\{route="[^"]+",status="201"\} \d+/);

    const lint = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    expect({ status: lint.status, problems: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ status: 0, problems: '' });
  });
});

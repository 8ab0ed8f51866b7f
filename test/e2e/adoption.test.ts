import { Writable } from 'node:stream';
import { createLogger } from '../../src/log';
import type { AppliedGroupState, AppliedUserState } from '../../src/reconcile/plan';
import type { SimGroup, SimUser } from '../coder-sim';
import { oktaUser, startE2E, type E2E } from './harness';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * A Coder that already holds accounts and a group before the bridge arrives. SCIM then pushes users whose
 * username, folded username or e-mail collide with each, and a group with the existing group's name: the
 * privileged accounts and the group stay exactly as they were, the ordinary account with the same e-mail is
 * adopted, username clashes take suffixes, and every conflict is named in /admin/status.
 */

interface World {
  owner: SimUser;
  userAdmin: SimUser;
  templateAdmin: SimUser;
  dana: SimUser;
  eli: SimUser;
  platform: SimGroup;
}

/** An owner (the simulator's token user), a password user-admin, an OIDC template-admin, two ordinary OIDC users, a group. */
function seed(e2e: E2E): World {
  const { direct } = e2e.sim;
  const owner = e2e.sim.users().find((user) => user.id === e2e.sim.ownerId)!;
  const userAdmin = direct.createUser({ username: 'ua-pw', email: 'ua.pw@corp.example.com', name: 'User Admin', status: 'active', roles: ['user-admin'] });
  const templateAdmin = direct.createUser({ username: 'ta-oidc', email: 'ta.oidc@corp.example.com', name: 'Template Admin', loginType: 'oidc', status: 'active', roles: ['template-admin'] });
  const dana = direct.createUser({ username: 'dana', email: 'dana@corp.example.com', name: 'Dana Old', loginType: 'oidc', status: 'active' });
  const eli = direct.createUser({ username: 'eli', email: 'eli@corp.example.com', name: 'Eli', loginType: 'oidc', status: 'active' });
  const platform = direct.createGroup({ name: 'platform', display_name: 'Platform' });
  for (const member of [userAdmin, dana, eli]) direct.addGroupMember(platform.id, member.id);
  return { owner, userAdmin, templateAdmin, dana, eli, platform: e2e.sim.groups().find((group) => group.id === platform.id)! };
}

/** What SCIM pushes: each entry collides with one seeded account in one way. */
const PUSHED = {
  ownerByUsername: oktaUser('ADMIN@scim.example.com', 'Not', 'Admin', { userName: 'ADMIN', emails: [{ primary: true, value: 'not.admin@scim.example.com' }] }),
  ownerByEmail: oktaUser('admin@coder.com', 'Fake', 'Owner', { active: false }),
  userAdminByFoldedUsername: oktaUser('ｕａ-ｐｗ@scim.example.com', 'Full', 'Width', { emails: [{ primary: true, value: 'fullwidth@scim.example.com' }] }),
  userAdminByEmail: oktaUser('someone.ua@scim.example.com', 'Some', 'One', { emails: [{ primary: true, value: 'ua.pw@corp.example.com' }], active: false }),
  templateAdminByUsername: oktaUser('ta-oidc', 'Ta', 'Clash', { emails: [{ primary: true, value: 'ta@scim.example.com' }] }),
  templateAdminByEmail: oktaUser('TA.OIDC@corp.example.com', 'Ta', 'Takeover', { emails: [{ primary: true, value: 'TA.OIDC@Corp.Example.com' }] }),
  danaByEmail: oktaUser('dana@corp.example.com', 'Dana', 'New'),
  eliByUsername: oktaUser('eli', 'Eli', 'Other', { emails: [{ primary: true, value: 'eli@scim.example.com' }] }),
};

type Pushed = Record<keyof typeof PUSHED, string>;

interface LogLine {
  msg: string;
  id?: string;
  outcome?: string;
  error?: { code: string; message: string };
}

async function push(e2e: E2E, world: World): Promise<{ users: Pushed; group: string }> {
  const users = {} as Pushed;
  for (const [key, body] of Object.entries(PUSHED)) {
    const reply = await e2e.scim('POST', '/Users', body);
    expect(reply.status).toBe(201);
    users[key as keyof typeof PUSHED] = reply.body.id;
  }
  const group = await e2e.scim('POST', '/Groups', {
    schemas: [GROUP_SCHEMA],
    displayName: world.platform.name,
    members: [{ value: users.danaByEmail }, { value: users.eliByUsername }],
  });
  expect(group.status).toBe(201);
  return { users, group: group.body.id };
}

/** Until every pushed resource has been applied or has failed, and the queue is idle. */
async function settle(e2e: E2E, ids: { users: string[]; groups: string[] }, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const syncs = [
      ...(await e2e.store.getSyncs('user', ids.users)),
      ...(await e2e.store.getSyncs('group', ids.groups)),
    ];
    const status = (await e2e.admin('GET', '/status')).body;
    const busy = status.queue.waiting + status.queue.active + status.queue.delayed;
    if (busy === 0 && syncs.every((sync) => sync?.applied !== undefined || sync?.lastError?.permanent)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not settled within ${timeoutMs} ms`);
}

function simUser(e2e: E2E, id: string): SimUser | undefined {
  return e2e.sim.users().find((user) => user.id === id);
}

function simGroup(e2e: E2E, id: string): SimGroup | undefined {
  return e2e.sim.groups().find((group) => group.id === id);
}

async function appliedUser(e2e: E2E, id: string): Promise<AppliedUserState | undefined> {
  return (await e2e.store.getSync<AppliedUserState>('user', id))?.applied;
}

function expectUntouched(e2e: E2E, world: World, options: { group: boolean }): void {
  for (const account of [world.owner, world.userAdmin, world.templateAdmin, world.eli]) expect(simUser(e2e, account.id)).toEqual(account);
  if (options.group) expect(simGroup(e2e, world.platform.id)).toEqual(world.platform);
}

describe('a Coder with existing accounts and a group, ADOPT_GROUPS unset', () => {
  let e2e: E2E;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    e2e = await startE2E({ logger: createLogger('info', logStream) });
  });
  afterAll(() => e2e.close());

  test('privileged accounts and the group stay unchanged; the ordinary e-mail match is adopted; clashes get suffixes; conflicts are named', async () => {
    const world = seed(e2e);
    const { users, group } = await push(e2e, world);
    await settle(e2e, { users: Object.values(users), groups: [group] });

    // Every privileged account, the username-clashed ordinary one and the group: field by field as seeded.
    expectUntouched(e2e, world, { group: true });
    expect(e2e.sim.orgMembers()).toEqual(expect.arrayContaining([world.owner.id, world.userAdmin.id, world.templateAdmin.id]));

    // The ordinary account with the same e-mail is adopted: same Coder id, now managed.
    const dana = await appliedUser(e2e, users.danaByEmail);
    expect(dana).toMatchObject({ coderId: world.dana.id, adopted: true });
    expect(simUser(e2e, world.dana.id)).toMatchObject({ username: 'dana', email: 'dana@corp.example.com', name: 'Dana New' });

    // Username clashes (plain, case-folded, full-width) took the next suffix, as new accounts with the SCIM e-mails.
    const suffixed = {
      ownerByUsername: ['ADMIN-1', 'not.admin@scim.example.com'],
      userAdminByFoldedUsername: ['ua-pw-1', 'fullwidth@scim.example.com'],
      templateAdminByUsername: ['ta-oidc-1', 'ta@scim.example.com'],
      eliByUsername: ['eli-1', 'eli@scim.example.com'],
    } as const;
    for (const [key, [username, email]] of Object.entries(suffixed)) {
      const applied = await appliedUser(e2e, users[key as keyof Pushed]);
      expect(applied).toMatchObject({ username, email });
      expect(applied?.adopted).toBeUndefined();
      expect(simUser(e2e, applied!.coderId)).toMatchObject({ username, email, roles: [] });
    }

    // /admin/status names each conflict: the Coder account or group, and the rule.
    const status = (await e2e.admin('GET', '/status')).body;
    expect(status.failureCounts).toEqual({ users: 3, groups: 1 });
    const reasons = Object.fromEntries(status.failures.map((f: { id: string; error: { code: string; message: string } }) => [f.id, f.error]));
    expect(reasons[users.ownerByEmail]).toMatchObject({ code: 'conflict', message: expect.stringMatching(/Coder user admin\b.*site role owner/) });
    expect(reasons[users.userAdminByEmail]).toMatchObject({ code: 'conflict', message: expect.stringMatching(/Coder user ua-pw\b.*site role user-admin/) });
    expect(reasons[users.templateAdminByEmail]).toMatchObject({ code: 'conflict', message: expect.stringMatching(/Coder user ta-oidc\b.*site role template-admin/) });
    expect(reasons[group]).toMatchObject({ code: 'conflict', message: expect.stringMatching(/Coder group platform .*ADOPT_GROUPS/) });

    // The same reason on the resource, in the failure metric and in one log line each.
    const resource = (await e2e.admin('GET', `/resources/Users/${users.ownerByEmail}`)).body;
    expect(resource.sync).toMatchObject({ applied: null, lastError: reasons[users.ownerByEmail] });
    const metrics = await e2e.bridge.metrics!.registry.getSingleMetricAsString('coder_scim_bridge_reconciles_total');
    expect(metrics).toContain('coder_scim_bridge_reconciles_total{kind="user",outcome="failed_permanent"} 3');
    expect(metrics).toContain('coder_scim_bridge_reconciles_total{kind="group",outcome="failed_permanent"} 1');
    for (const id of [users.ownerByEmail, users.userAdminByEmail, users.templateAdminByEmail, group]) {
      const failed = lines.filter((line) => line.id === id && line.outcome === 'failed');
      expect(failed).toHaveLength(1);
      expect(failed[0].error).toEqual(expect.objectContaining({ code: 'conflict', message: reasons[id].message }));
    }

    // A full resync applies the same rules: it retries the conflicts and still changes nothing of what is not the bridge's.
    const accepted = await e2e.admin('POST', '/resync', {});
    expect(accepted.status).toBe(202);
    let view: { state: string } | undefined;
    for (let i = 0; i < 300 && view?.state !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = (await e2e.admin('GET', `/resync/${accepted.body.id}`)).body;
    }
    expect(view?.state).toBe('completed');
    await settle(e2e, { users: Object.values(users), groups: [group] });
    expectUntouched(e2e, world, { group: true });
    expect((await e2e.admin('GET', '/status')).body.failureCounts).toEqual({ users: 3, groups: 1 });
    const unmanaged = (view as unknown as { result: { unmanaged: { users: { id: string }[]; groups: { id: string }[] } } }).result.unmanaged;
    expect(unmanaged.users.map((user) => user.id)).toEqual(expect.arrayContaining([world.owner.id, world.userAdmin.id, world.templateAdmin.id, world.eli.id]));
    expect(unmanaged.groups.map((g) => g.id)).toContain(world.platform.id);

    // A later change to a conflicted SCIM user still never reaches the privileged account.
    const patched = await e2e.scim('PATCH', `/Users/${users.userAdminByEmail}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Renamed' }],
    });
    expect(patched.status).toBe(200);
    expect((await e2e.scim('DELETE', `/Users/${users.ownerByEmail}`)).status).toBe(204);
    await settle(e2e, { users: [users.userAdminByEmail], groups: [] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expectUntouched(e2e, world, { group: true });
  }, 90_000);
});

describe('the same Coder with ADOPT_GROUPS listing the group', () => {
  let e2e: E2E;
  beforeAll(async () => {
    e2e = await startE2E({ env: { ADOPT_GROUPS: 'platform' } });
  });
  afterAll(() => e2e.close());

  test('the group is adopted (same Coder id, the SCIM members added); its other members and the privileged accounts stay', async () => {
    const world = seed(e2e);
    const { users, group } = await push(e2e, world);
    await settle(e2e, { users: Object.values(users), groups: [group] });

    const applied = (await e2e.store.getSync<AppliedGroupState>('group', group))?.applied;
    expect(applied?.coderId).toBe(world.platform.id);
    const eliNew = (await appliedUser(e2e, users.eliByUsername))!.coderId;
    // The bridge removes only grants it may manage: the user-admin and the unmanaged eli keep their membership.
    expect([...simGroup(e2e, world.platform.id)!.members].sort()).toEqual([world.userAdmin.id, world.dana.id, world.eli.id, eliNew].sort());
    expect(simGroup(e2e, world.platform.id)).toMatchObject({ name: 'platform', display_name: 'platform' });

    expectUntouched(e2e, world, { group: false });
    expect((await e2e.admin('GET', '/status')).body.failureCounts).toEqual({ users: 3, groups: 0 });
  }, 90_000);
});

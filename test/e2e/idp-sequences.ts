import { randomUUID } from 'node:crypto';
import { PATCH_OP, oktaUser, type CoderView, type E2E, type ScimReply } from './harness';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * Okta- and Entra-shaped provisioning sequences driven through the bridge's SCIM API, request shapes as each
 * IdP sends them (shared/reference/idp-scim-traffic.md). Each run keeps its own model of what Coder must hold
 * at the end, written out step by step, so a test can compare Coder with an expectation that does not come
 * from the bridge's store.
 */

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ENTRA_GROUP_SCHEMA = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

/** Each sequence refers to users by index: below this it cannot play every step. */
export const MIN_SEQUENCE_USERS = 11;

export interface SequenceOptions {
  users: number;
  /** Distinguishes the e-mails and group names of two runs against one bridge. */
  tag: string;
}

export interface SequenceRun {
  /** SCIM writes sent (POST, PUT, PATCH, DELETE): the changes that Coder calls are counted against. */
  scimWrites: number;
  /** What Coder must hold at the end under each delete policy. */
  expected(deletePolicy: 'suspend' | 'delete'): CoderView;
}

interface ModelUser {
  scimId: string;
  email: string;
  username: string;
  name: string;
  suspended: boolean;
  deleted: boolean;
}

interface ModelGroup {
  scimId: string;
  name: string;
  displayName: string;
  members: Set<ModelUser>;
  deleted: boolean;
}

export class SequenceError extends Error {
  readonly code = 'unexpected_scim_status';
}

/** Sends SCIM writes, checks each answer's status and counts them. */
class ScimWriter {
  writes = 0;

  constructor(private readonly e2e: E2E) {}

  async send(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body: unknown, status: number): Promise<ScimReply> {
    this.writes++;
    const reply = await this.e2e.scim(method, path, body);
    if (reply.status !== status) throw new SequenceError(`${method} ${path}: expected ${status}, got ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply;
  }
}

function expectedView(users: ModelUser[], groups: ModelGroup[], deletePolicy: 'suspend' | 'delete'): CoderView {
  const view: CoderView = { users: {}, groups: {} };
  for (const user of users) {
    if (user.deleted && deletePolicy === 'delete') continue;
    view.users[user.email] = { username: user.username, email: user.email, name: user.name, suspended: user.suspended || user.deleted };
  }
  for (const group of groups) {
    if (group.deleted) continue;
    const members = [...group.members].filter((user) => !user.deleted).map((user) => user.email).sort();
    view.groups[group.name] = { displayName: group.displayName, members };
  }
  return view;
}

/**
 * IdPs delete users long after creating them. Without this pause a user created and deleted while Coder was
 * failing may never reach Coder at all (correctly), and "deleted means suspended" could not be asserted exactly.
 */
/** Covers a 60 s rate-limit pause. */
const SETTLE_TIMEOUT_MS = 150_000;
/**
 * The end both IdPs share: once Coder has caught up, DELETE one user and the fourth group. The wait keeps a user
 * created and deleted while Coder fails from never reaching Coder, which would make "deleted = suspended" moot.
 */
async function finishWithDeletes(e2e: E2E, scim: ScimWriter, users: ModelUser[], groups: ModelGroup[]): Promise<SequenceRun> {
  await e2e.waitForConvergence(SETTLE_TIMEOUT_MS);
  const [leaver, removedGroup] = [users[6], groups[3]];
  await scim.send('DELETE', `/Users/${leaver.scimId}`, undefined, 204);
  leaver.deleted = true;
  await scim.send('DELETE', `/Groups/${removedGroup.scimId}`, undefined, 204);
  removedGroup.deleted = true;
  return { scimWrites: scim.writes, expected: (policy) => expectedView(users, groups, policy) };
}

/** Index ranges of the four groups' first members, the same for both IdPs. */
function initialMembers(users: ModelUser[]): ModelUser[][] {
  const n = users.length;
  return [users.slice(0, 6), users.slice(4, 10), [...users.slice(8, n), users[0]], [users[1], users[2]]];
}

function assertPopulation(options: SequenceOptions): void {
  if (options.users < MIN_SEQUENCE_USERS) throw new RangeError(`a sequence needs at least ${MIN_SEQUENCE_USERS} users, got ${options.users}`);
}

/**
 * Okta: POST users; POST groups with no members, then PATCH add (members with display); PUT whole-user
 * profile updates; PATCH {"op":"replace","value":{"active":false}} and back; a group PATCH that removes by
 * members[value eq] and adds in one request; a no-path replace {id, displayName} rename; DELETE a user and a group.
 */
export async function runOktaSequence(e2e: E2E, options: SequenceOptions): Promise<SequenceRun> {
  assertPopulation(options);
  const scim = new ScimWriter(e2e);
  const users: ModelUser[] = [];
  for (let i = 0; i < options.users; i++) {
    const username = `okta-${options.tag}-${i}`;
    const email = `${username}@example.com`;
    const created = await scim.send('POST', '/Users', oktaUser(email, `Given${i}`, `Okta${i}`), 201);
    users.push({ scimId: created.body.id, email, username, name: `Given${i} Okta${i}`, suspended: false, deleted: false });
  }

  const groups: ModelGroup[] = [];
  const displayNames = ['Engineering', 'Design', 'Operations', 'Contractors'].map((name) => `Okta ${options.tag} ${name}`);
  for (const [index, members] of initialMembers(users).entries()) {
    const displayName = displayNames[index];
    const created = await scim.send('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, members: [] }, 201);
    const group: ModelGroup = { scimId: created.body.id, name: displayName.replaceAll(' ', '-'), displayName, members: new Set(members), deleted: false };
    const value = members.map((user) => ({ value: user.scimId, display: user.email }));
    await scim.send('PATCH', `/Groups/${group.scimId}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value }] }, 204);
    groups.push(group);
  }

  for (const user of users.slice(0, 2)) {
    const reply = await e2e.scim('GET', `/Users/${user.scimId}`);
    const put = {
      schemas: [USER_SCHEMA],
      id: user.scimId,
      userName: reply.body.userName,
      name: { givenName: 'Renamed', middleName: 'Okta', familyName: reply.body.name.familyName },
      emails: [{ primary: true, value: user.email, type: 'work', display: user.email }],
      active: true,
      groups: [],
      meta: { resourceType: 'User' },
    };
    await scim.send('PUT', `/Users/${user.scimId}`, put, 200);
    user.name = `Renamed ${reply.body.name.familyName}`;
  }

  const setActive = async (user: ModelUser, active: boolean) => {
    await scim.send('PATCH', `/Users/${user.scimId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active } }] }, 200);
    user.suspended = !active;
  };
  await setActive(users[2], false);
  await setActive(users[3], false);
  await setActive(users[3], true);

  const [engineering, design] = groups;
  const leaving = users[5];
  const joining = users[10];
  await scim.send(
    'PATCH',
    `/Groups/${engineering.scimId}`,
    {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'remove', path: `members[value eq "${leaving.scimId}"]` },
        { op: 'add', path: 'members', value: [{ value: joining.scimId, display: joining.email }] },
      ],
    },
    204,
  );
  engineering.members.delete(leaving);
  engineering.members.add(joining);

  design.displayName = `Okta ${options.tag} Product Design`;
  design.name = design.displayName.replaceAll(' ', '-');
  await scim.send('PATCH', `/Groups/${design.scimId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { id: design.scimId, displayName: design.displayName } }] }, 204);

  return finishWithDeletes(e2e, scim, users, groups);
}

/**
 * Entra ID: POST users with nulls and the enterprise extension; POST groups without members, then PATCH "Add"
 * with value arrays; PATCH "Replace" profile paths; "Replace" active with the strings "False"/"True"; "Remove"
 * members with a value array; "Replace" displayName; DELETE a user and a group.
 */
export async function runEntraSequence(e2e: E2E, options: SequenceOptions): Promise<SequenceRun> {
  assertPopulation(options);
  const scim = new ScimWriter(e2e);
  // Entra reads a user PATCH's 200 body; group PATCHes answer 204.
  const patch = (path: string, Operations: unknown[]) => scim.send('PATCH', path, { schemas: [PATCH_OP], Operations }, path.startsWith('/Groups/') ? 204 : 200);
  const users: ModelUser[] = [];
  for (let i = 0; i < options.users; i++) {
    const username = `entra-${options.tag}-${i}`;
    const email = `${username}@contoso.test`;
    const body = {
      schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
      externalId: randomUUID(),
      userName: email,
      active: true,
      addresses: null,
      phoneNumbers: null,
      title: null,
      emails: [{ primary: true, type: 'work', value: email }],
      meta: { resourceType: 'User' },
      name: { formatted: `Given${i} Entra${i}`, familyName: `Entra${i}`, givenName: `Given${i}` },
      displayName: `Given${i} Entra${i}`,
      roles: [],
      [ENTERPRISE_SCHEMA]: { department: 'R&D', manager: null },
    };
    const created = await scim.send('POST', '/Users', body, 201);
    users.push({ scimId: created.body.id, email, username, name: `Given${i} Entra${i}`, suspended: false, deleted: false });
  }

  const groups: ModelGroup[] = [];
  const displayNames = ['Engineering', 'Design', 'Operations', 'Contractors'].map((name) => `Entra ${options.tag} ${name}`);
  for (const [index, members] of initialMembers(users).entries()) {
    const displayName = displayNames[index];
    const body = { schemas: [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA], externalId: randomUUID(), displayName, meta: { resourceType: 'Group' } };
    const created = await scim.send('POST', '/Groups', body, 201);
    const group: ModelGroup = { scimId: created.body.id, name: displayName.replaceAll(' ', '-'), displayName, members: new Set(members), deleted: false };
    await patch(`/Groups/${group.scimId}`, [{ op: 'Add', path: 'members', value: members.map((user) => ({ $ref: null, value: user.scimId })) }]);
    groups.push(group);
  }

  for (const [i, user] of users.slice(0, 2).entries()) {
    user.name = `Renamed${i} Entra${i}`;
    await patch(`/Users/${user.scimId}`, [
      { op: 'Replace', path: 'displayName', value: user.name },
      { op: 'Replace', path: 'name.givenName', value: `Renamed${i}` },
      { op: 'Replace', path: 'name.formatted', value: user.name },
    ]);
  }

  const setActive = async (user: ModelUser, active: boolean) => {
    await patch(`/Users/${user.scimId}`, [{ op: 'Replace', path: 'active', value: active ? 'True' : 'False' }]);
    user.suspended = !active;
  };
  await setActive(users[2], false);
  await setActive(users[3], false);
  await setActive(users[3], true);

  const [engineering, design] = groups;
  const leaving = [users[4], users[5]];
  await patch(`/Groups/${engineering.scimId}`, [{ op: 'Remove', path: 'members', value: leaving.map((user) => ({ value: user.scimId })) }]);
  for (const user of leaving) engineering.members.delete(user);
  await patch(`/Groups/${engineering.scimId}`, [{ op: 'Add', path: 'members', value: [{ $ref: null, value: users[10].scimId }] }]);
  engineering.members.add(users[10]);

  design.displayName = `Entra ${options.tag} Product Design`;
  design.name = design.displayName.replaceAll(' ', '-');
  await patch(`/Groups/${design.scimId}`, [{ op: 'Replace', path: 'displayName', value: design.displayName }]);

  return finishWithDeletes(e2e, scim, users, groups);
}

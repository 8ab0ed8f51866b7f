import { oktaUser, PATCH_OP, type E2E, type ScimReply } from '../e2e/harness';
import { GROUP_SCHEMA } from '../../src/scim/urns';

/**
 * A provisioning run for the fault scenarios, sent the way an IdP sends it: it retries a request that got no
 * answer, a 5xx or a 429, and treats a 409 on a retried create as "it was created". It keeps its own model
 * of what every acknowledged request asked for, so a test can check that nothing acknowledged was lost.
 */

export interface ExpectedUser {
  name: string;
  suspended: boolean;
}

/** Users by lower-cased e-mail; groups by displayName with sorted member e-mails. */
export interface ExpectedState {
  users: Record<string, ExpectedUser>;
  groups: Record<string, string[]>;
}

export interface RunOptions {
  users?: number;
  groups?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Called once, without being awaited, when half of the run's requests are acknowledged; awaited at the end. */
  midRun?: () => Promise<void>;
  /** E-mail prefix, so two runs against one bridge do not collide. */
  tag?: string;
}

export class RunFailedError extends Error {
  readonly code = 'run_failed';
}

const GIVE_UP_MS = 120_000;
const RETRY_PAUSE_MS = 200;

/** Sends until the bridge gives an answer an IdP would not retry. */
export async function deliver(e2e: E2E, method: string, path: string, body?: unknown): Promise<ScimReply> {
  const started = Date.now();
  for (;;) {
    let reply: ScimReply | undefined;
    try {
      reply = await e2e.scim(method, path, body);
    } catch {
      // No answer (the bridge was killed, the connection dropped): an IdP retries.
    }
    if (reply && reply.status < 500 && reply.status !== 429) return reply;
    if (Date.now() - started > GIVE_UP_MS) throw new RunFailedError(`${method} ${path}: no usable answer within ${GIVE_UP_MS} ms (last ${reply?.status ?? 'none'})`);
    await new Promise((done) => setTimeout(done, RETRY_PAUSE_MS));
  }
}

function expectStatus(reply: ScimReply, wanted: number[], what: string): void {
  if (!wanted.includes(reply.status)) throw new RunFailedError(`${what}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
}

/** Creates a user; a 409 means an earlier attempt whose answer was lost did create it. */
export async function createUser(e2e: E2E, email: string, given: string, family: string): Promise<string> {
  const reply = await deliver(e2e, 'POST', '/Users', oktaUser(email, given, family));
  if (reply.status === 409) {
    const found = await deliver(e2e, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}`);
    expectStatus(found, [200], `look up ${email}`);
    return found.body.Resources[0].id as string;
  }
  expectStatus(reply, [201], `create ${email}`);
  return reply.body.id as string;
}

export async function createGroup(e2e: E2E, displayName: string, memberIds: string[]): Promise<string> {
  const body = { schemas: [GROUP_SCHEMA], displayName, members: memberIds.map((value) => ({ value })) };
  const reply = await deliver(e2e, 'POST', '/Groups', body);
  if (reply.status === 409) {
    const found = await deliver(e2e, 'GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`);
    expectStatus(found, [200], `look up ${displayName}`);
    const id = found.body.Resources[0].id as string;
    // The lost create carried the members; sending them again is harmless.
    await patchMembers(e2e, id, 'add', memberIds);
    return id;
  }
  expectStatus(reply, [201], `create group ${displayName}`);
  return reply.body.id as string;
}

export async function patchMembers(e2e: E2E, groupId: string, op: 'add' | 'remove', userIds: string[]): Promise<void> {
  const operations =
    op === 'add'
      ? [{ op: 'add', path: 'members', value: userIds.map((value) => ({ value })) }]
      : userIds.map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` }));
  const reply = await deliver(e2e, 'PATCH', `/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: operations });
  expectStatus(reply, [200, 204], `${op} members of ${groupId}`);
}

export async function setActive(e2e: E2E, userId: string, active: boolean): Promise<void> {
  const reply = await deliver(e2e, 'PATCH', `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active } }] });
  expectStatus(reply, [200, 204], `set active=${active} on ${userId}`);
}

export async function replaceUser(e2e: E2E, userId: string, email: string, given: string, family: string): Promise<void> {
  const reply = await deliver(e2e, 'PUT', `/Users/${userId}`, { ...oktaUser(email, given, family), id: userId });
  expectStatus(reply, [200], `replace ${email}`);
}

/** Runs `tasks` with at most `limit` in flight; `afterEach` sees how many have finished. */
export async function runLimited(tasks: (() => Promise<void>)[], limit: number, afterEach?: (done: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      await task();
      afterEach?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
}

export function userEmail(tag: string, index: number): string {
  return `${tag}.user${String(index).padStart(4, '0')}@example.com`;
}

/**
 * The standard run: creates users, then groups with a third of the users each, then in one mixed batch adds
 * the rest as members, removes a few, renames a fifth of the users and deactivates a tenth.
 */
export async function provisioningRun(e2e: E2E, options: RunOptions = {}): Promise<ExpectedState> {
  const userCount = options.users ?? 200;
  const groupCount = options.groups ?? 3;
  const concurrency = options.concurrency ?? 16;
  const tag = options.tag ?? 'fault';
  const expected: ExpectedState = { users: {}, groups: {} };
  const ids: string[] = new Array(userCount);
  const emails = Array.from({ length: userCount }, (_, i) => userEmail(tag, i));
  const groupIds: string[] = new Array(groupCount);
  const groupNames = Array.from({ length: groupCount }, (_, g) => `${tag} Team ${g + 1}`);
  const members = groupNames.map(() => new Set<string>());
  const initialCut = Math.floor(userCount * 0.75);

  const creates = emails.map((email, i) => async () => {
    ids[i] = await createUser(e2e, email, 'Fault', `User${i}`);
    expected.users[email] = { name: `Fault User${i}`, suspended: false };
  });
  const groupCreates = groupNames.map((displayName, g) => async () => {
    const initial = emails.map((_, i) => i).filter((i) => i < initialCut && i % groupCount === g);
    groupIds[g] = await createGroup(e2e, displayName, initial.map((i) => ids[i]));
    for (const i of initial) members[g].add(emails[i]);
  });
  const changes: (() => Promise<void>)[] = [];
  for (let g = 0; g < groupCount; g++) {
    const late = emails.map((_, i) => i).filter((i) => i >= initialCut && i % groupCount === g);
    for (let start = 0; start < late.length; start += 10) {
      const batch = late.slice(start, start + 10);
      changes.push(async () => {
        await patchMembers(e2e, groupIds[g], 'add', batch.map((i) => ids[i]));
        for (const i of batch) members[g].add(emails[i]);
      });
    }
    const leaving = [g, g + groupCount, g + 2 * groupCount];
    changes.push(async () => {
      await patchMembers(e2e, groupIds[g], 'remove', leaving.map((i) => ids[i]));
      for (const i of leaving) members[g].delete(emails[i]);
    });
  }
  for (let i = 0; i < userCount; i += 5) {
    changes.push(async () => {
      await replaceUser(e2e, ids[i], emails[i], 'Renamed', `User${i}`);
      expected.users[emails[i]] = { ...expected.users[emails[i]], name: `Renamed User${i}` };
    });
  }
  for (let i = 3; i < userCount; i += 10) {
    changes.push(async () => {
      await setActive(e2e, ids[i], false);
      expected.users[emails[i]] = { ...expected.users[emails[i]], suspended: true };
    });
  }

  const total = creates.length + groupCreates.length + changes.length;
  let finished = 0;
  let midRun: Promise<void> | undefined;
  const progress = () => {
    finished += 1;
    if (!midRun && options.midRun && finished >= total / 2) midRun = options.midRun();
  };
  await runLimited(creates, concurrency, progress);
  await runLimited(groupCreates, concurrency, progress);
  await runLimited(changes, concurrency, progress);
  await midRun;
  groupNames.forEach((name, g) => {
    expected.groups[name] = [...members[g]].sort();
  });
  return expected;
}

import { PATCH_OP, oktaUser, type E2E } from '../test/e2e/harness';
import { GROUP_SCHEMA } from '../src/scim/urns';

/**
 * The load generator of bench:e2e: Okta-style provisioning pushed through the bridge's SCIM API. Users are
 * assigned first (one POST each); then each group is pushed as Okta does it: POST with `members: []`, then
 * PATCH add of its members in batches of MEMBER_BATCH.
 */

export const MEMBER_BATCH = 100;

export class PushError extends Error {
  readonly code = 'push_rejected';
}

export interface Population {
  users: number;
  groups: number;
  membersPerGroup: number;
}

export interface PushResult {
  /** SCIM writes sent: each is one change the bridge must carry to Coder. */
  scimWrites: number;
  userIds: string[];
  groupIds: string[];
}

export const userEmail = (index: number): string => `bench.user${index}@example.com`;
export const groupDisplayName = (index: number): string => `Bench Group ${index}`;
/** Group g holds `membersPerGroup` consecutive users starting at g * membersPerGroup, wrapping round. */
export const groupMemberIndexes = (group: number, population: Population): number[] =>
  Array.from({ length: population.membersPerGroup }, (_, k) => (group * population.membersPerGroup + k) % population.users);

/** Runs `task` over 0..count-1 with at most `concurrency` in flight (an IdP's parallel connections). */
async function inParallel(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

export async function pushOktaStyle(e2e: E2E, population: Population, concurrency: number): Promise<PushResult> {
  let scimWrites = 0;
  const send = async (method: 'POST' | 'PATCH', path: string, body: unknown, status: number) => {
    scimWrites++;
    const reply = await e2e.scim(method, path, body);
    if (reply.status !== status) throw new PushError(`${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body;
  };

  const userIds: string[] = new Array(population.users);
  await inParallel(population.users, concurrency, async (i) => {
    userIds[i] = (await send('POST', '/Users', oktaUser(userEmail(i), 'Bench', `User${i}`), 201)).id;
  });

  const groupIds: string[] = new Array(population.groups);
  await inParallel(population.groups, concurrency, async (g) => {
    const id: string = (await send('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: groupDisplayName(g), members: [] }, 201)).id;
    groupIds[g] = id;
    const members = groupMemberIndexes(g, population);
    for (let start = 0; start < members.length; start += MEMBER_BATCH) {
      const value = members.slice(start, start + MEMBER_BATCH).map((i) => ({ value: userIds[i], display: userEmail(i) }));
      await send('PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value }] }, 204);
    }
  });
  return { scimWrites, userIds, groupIds };
}

/** The fewest Coder calls that provision the population: a POST per user (org included), a POST and one PATCH per group. */
export function fewestCoderCalls(population: Population): number {
  return population.users + 2 * population.groups;
}

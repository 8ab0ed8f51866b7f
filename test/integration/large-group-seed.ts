import { randomUUID } from 'node:crypto';
import type { AppliedUserState } from '../../src/reconcile/plan';
import type { DesiredStore } from '../../src/store/types';
import type { CoderSim } from '../coder-sim';

/**
 * Many users that are already provisioned, built without a round trip per user through SCIM or Coder's HTTP API:
 * each is created in the simulator directly, and written to the store with the sync status a user reconcile
 * would have left (in Coder, in the organization, its Coder id claimed).
 */

export interface SeededUser {
  id: string;
  userName: string;
  coderId: string;
}

const WRITES_IN_FLIGHT = 500;

export async function seedProvisionedUsers(store: DesiredStore, sim: CoderSim, count: number, namePrefix: string): Promise<SeededUser[]> {
  const users: SeededUser[] = [];
  for (let i = 0; i < count; i++) {
    const userName = `${namePrefix}${i}`;
    const coder = sim.direct.createUser({ username: userName, email: `${userName}@example.com`, status: 'active' });
    users.push({ id: randomUUID(), userName, coderId: coder.id });
  }
  for (let i = 0; i < users.length; i += WRITES_IN_FLIGHT) {
    await Promise.all(users.slice(i, i + WRITES_IN_FLIGHT).map((user) => writeProvisioned(store, user)));
  }
  return users;
}

async function writeProvisioned(store: DesiredStore, user: SeededUser): Promise<void> {
  const email = `${user.userName}@example.com`;
  const doc = {
    id: user.id,
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: user.userName,
    emails: [{ value: email, primary: true }],
    active: true,
  };
  const stored = await store.createUser(doc, { userName: user.userName, emails: [email] });
  const applied: AppliedUserState = { coderId: user.coderId, username: user.userName, email, name: '', status: 'active', orgMember: true, mappedUsername: user.userName };
  await store.setSync('user', user.id, { applied, appliedVersion: stored.version, lastSuccessAt: Date.now() }, [user.coderId]);
}

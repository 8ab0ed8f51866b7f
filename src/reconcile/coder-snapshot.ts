import type { CoderClient } from '../coder/client';
import type { User } from '../coder/types';
import type { CoderSnapshot } from './drift';

/**
 * The Coder reads a resync needs: list calls, one per page, the two single reads of a one-resource resync, and
 * the token's own user (never the bridge's to change).
 */
export type CoderReader = Pick<CoderClient, 'iterateUsers' | 'orgMembers' | 'groups' | 'user' | 'group' | 'me'>;

export const RESYNC_PAGE_SIZE = 500;

async function allUsers(coder: CoderReader, pageSize: number): Promise<User[]> {
  const users: User[] = [];
  for await (const user of coder.iterateUsers(pageSize)) users.push(user);
  return users;
}

/** Every user (after_id pages), the organization's members and its groups with their members. */
export async function readFullSnapshot(coder: CoderReader, orgId: string, pageSize = RESYNC_PAGE_SIZE): Promise<CoderSnapshot> {
  const [users, members, groups, me] = await Promise.all([allUsers(coder, pageSize), coder.orgMembers(orgId, pageSize), coder.groups(orgId), coder.me()]);
  return { users, orgMemberIds: members.map((member) => member.user_id), groups, tokenUserId: me.id };
}

/** One user by its Coder id: the user object carries its organizations, so no member listing is needed. */
export async function readUserSnapshot(coder: CoderReader, orgId: string, coderId: string | undefined): Promise<CoderSnapshot> {
  const [user, me] = await Promise.all([coderId ? coder.user(coderId) : Promise.resolve(null), coder.me()]);
  return { users: user ? [user] : [], orgMemberIds: user?.organization_ids.includes(orgId) ? [user.id] : [], groups: [], tokenUserId: me.id };
}

/** One group by its Coder id, plus every user so that its desired members resolve to the Coder users that exist. */
export async function readGroupSnapshot(coder: CoderReader, coderId: string | undefined, pageSize = RESYNC_PAGE_SIZE): Promise<CoderSnapshot> {
  const [users, group] = await Promise.all([allUsers(coder, pageSize), coderId ? coder.group(coderId) : Promise.resolve(null)]);
  const orgMemberIds = group ? users.filter((user) => user.organization_ids.includes(group.organization_id)).map((user) => user.id) : [];
  return { users, orgMemberIds, groups: group ? [group] : [] };
}

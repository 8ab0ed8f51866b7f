import type { SimGroup, SimUser } from '../../test/coder-sim';

/**
 * What the demo shows of the simulated Coder: a snapshot of its users and groups, and the lines that describe
 * how one snapshot became the next. Pure, so it is tested without a simulator.
 */

export interface CoderSnapshot {
  users: Map<string, { username: string; email: string; status: string }>;
  /** Members by username, sorted. */
  groups: Map<string, { name: string; members: string[] }>;
}

export function snapshot(users: readonly SimUser[], groups: readonly SimGroup[], ownerId: string): CoderSnapshot {
  const usernames = new Map(users.map((user) => [user.id, user.username]));
  return {
    users: new Map(users.filter((user) => user.id !== ownerId && !user.deleted).map((user) => [user.id, { username: user.username, email: user.email, status: user.status }])),
    groups: new Map(groups.map((group) => [group.id, { name: group.name, members: [...group.members].map((id) => usernames.get(id) ?? id).sort() }])),
  };
}

export function describeChanges(before: CoderSnapshot, after: CoderSnapshot): string[] {
  const lines: string[] = [];
  for (const [id, user] of after.users) {
    const old = before.users.get(id);
    if (!old) lines.push(`user created: ${user.username} <${user.email}> (${user.status})`);
    else if (old.status !== user.status) lines.push(`user ${user.username} is now ${user.status}`);
    else if (old.username !== user.username) lines.push(`user ${old.username} renamed to ${user.username}`);
  }
  for (const [id, user] of before.users) if (!after.users.has(id)) lines.push(`user deleted: ${user.username}`);
  for (const [id, group] of after.groups) {
    const old = before.groups.get(id);
    const members = `[${group.members.join(', ')}]`;
    if (!old) lines.push(`group created: ${group.name} ${members}`);
    else {
      if (old.name !== group.name) lines.push(`group ${old.name} renamed to ${group.name}`);
      if (old.members.join() !== group.members.join()) lines.push(`group ${group.name} members: ${members}`);
    }
  }
  for (const [id, group] of before.groups) if (!after.groups.has(id)) lines.push(`group deleted: ${group.name}`);
  return lines;
}

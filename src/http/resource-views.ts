import { project } from '../scim/projection';
import { renderGroup, renderUser } from '../scim/render';
import type { DesiredStore, MemberRef, StoredResource } from '../store/types';
import type { Projection } from './list-query';

/**
 * Whether a response will show `name` (a top-level attribute): lets reads skip loading a user's groups or a
 * group's members when the client excluded them (Entra reads groups with `excludedAttributes=members`).
 */
export function returnsAttribute(projection: Projection, name: string): boolean {
  const lower = name.toLowerCase();
  const names = (list: string[] | undefined) => (list ?? []).map((a) => a.toLowerCase().split(/[.[]/)[0]);
  if (projection.attributes) return names(projection.attributes).includes(lower);
  return !names(projection.excludedAttributes).includes(lower);
}

/** Turns stored resources into the SCIM representations a response carries, loading relations only when shown. */
export class ResourceViews {
  constructor(private readonly store: DesiredStore) {}

  async user(stored: StoredResource, baseUrl: string, projection: Projection): Promise<Record<string, unknown>> {
    const groups = returnsAttribute(projection, 'groups') ? await this.groupsOf(stored.id) : [];
    return project(renderUser(stored, groups, baseUrl), projection);
  }

  async group(stored: StoredResource, baseUrl: string, projection: Projection): Promise<Record<string, unknown>> {
    const members = returnsAttribute(projection, 'members') ? await this.membersOf(stored.id) : undefined;
    return project(renderGroup(stored, members, baseUrl), projection);
  }

  private async groupsOf(userId: string): Promise<{ value: string; display: string }[]> {
    const groups = await this.store.getGroups(await this.store.userGroupIds(userId));
    return groups
      .filter((group): group is StoredResource => group !== null)
      .map((group) => ({ value: group.id, display: String(group.doc.displayName ?? '') }));
  }

  /** A member's display: what the client sent with it, else the user's displayName, else its userName. */
  private async membersOf(groupId: string): Promise<MemberRef[]> {
    const ids = await this.store.memberIds(groupId);
    const [users, displays] = await Promise.all([this.store.getUsers(ids), this.store.memberDisplays(groupId, ids)]);
    const members: MemberRef[] = [];
    users.forEach((user, i) => {
      if (user) members.push({ value: user.id, display: displays[i] ?? String(user.doc.displayName ?? user.doc.userName ?? '') });
    });
    return members;
  }
}

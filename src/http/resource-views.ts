import { project } from '../scim/projection';
import { renderGroup, renderMember, renderUser } from '../scim/render';
import { GROUP_SCHEMA } from '../scim/urns';
import type { DesiredStore } from '../store/types';
import type { StoredResource } from '../model/resource';
import type { Projection } from './list-query';

/** Members read and rendered per step: bounds the work between two awaits, whatever the group's size. */
const MEMBER_CHUNK = 1_000;

/**
 * Whether a response will show `name` (a top-level attribute): lets reads skip loading a user's groups or a
 * group's members when the client excluded them (Entra reads groups with `excludedAttributes=members`).
 */
export function returnsAttribute(projection: Projection, name: string): boolean {
  const lower = name.toLowerCase();
  return projection.attributes ? topLevelNames(projection).has(lower) : !topLevelNames(projection).has(lower);
}

/** Per request object, like the compiled projection: a page asks this once per resource. */
const topLevel = new WeakMap<Projection, Set<string>>();

function topLevelNames(projection: Projection): Set<string> {
  let names = topLevel.get(projection);
  if (!names) {
    const list = projection.attributes ?? projection.excludedAttributes ?? [];
    topLevel.set(projection, (names = new Set(list.map((a) => a.toLowerCase().split(/[.[]/)[0]))));
  }
  return names;
}

/**
 * A group as it is sent: everything but the members (`head`, projected, with `meta`), and the members (projected)
 * chunk by chunk, or undefined when the response does not show them. A group of 100,000 members is thus written
 * out as it is read, never held whole in several forms.
 */
export interface GroupParts {
  head: Record<string, unknown>;
  members?: { count: number; chunks: AsyncIterable<Record<string, unknown>[]> };
}

/** Turns stored resources into the SCIM representations a response carries, loading relations only when shown. */
export class ResourceViews {
  constructor(private readonly store: DesiredStore) {}

  async user(stored: StoredResource, baseUrl: string, projection: Projection): Promise<Record<string, unknown>> {
    const groups = returnsAttribute(projection, 'groups') ? await this.groupsOf(stored.id) : [];
    return project(renderUser(stored, groups, baseUrl), projection);
  }

  async groupParts(stored: StoredResource, baseUrl: string, projection: Projection): Promise<GroupParts> {
    const head = project(renderGroup(stored, undefined, baseUrl), projection);
    if (!returnsAttribute(projection, 'members')) return { head };
    const [count] = await this.store.memberCounts([stored.id]);
    return { head, members: { count, chunks: this.memberChunks(stored.id, baseUrl, projection) } };
  }

  /** The whole group in memory: for responses whose member count the caller has bounded. */
  async group(stored: StoredResource, baseUrl: string, projection: Projection): Promise<Record<string, unknown>> {
    const { head, members } = await this.groupParts(stored, baseUrl, projection);
    if (!members) return head;
    const all: Record<string, unknown>[] = [];
    for await (const chunk of members.chunks) for (const member of chunk) all.push(member);
    // An empty group shows `members: []`; members that the projection filtered out all are not shown.
    if (all.length === 0 && members.count > 0) return head;
    const { meta, ...rest } = head;
    return meta === undefined ? { ...rest, members: all } : { ...rest, members: all, meta };
  }

  private async groupsOf(userId: string): Promise<{ value: string; display: string }[]> {
    const groups = await this.store.getGroups(await this.store.userGroupIds(userId));
    return groups
      .filter((group): group is StoredResource => group !== null)
      .map((group) => ({ value: group.id, display: String(group.doc.displayName ?? '') }));
  }

  /** A member's display: what the client sent with it, else the user's displayName, else its userName. */
  private async *memberChunks(groupId: string, baseUrl: string, projection: Projection): AsyncGenerator<Record<string, unknown>[]> {
    for await (const chunk of this.store.memberIdBatches(groupId, MEMBER_CHUNK)) {
      const [users, displays] = await Promise.all([this.store.getUsers(chunk), this.store.memberDisplays(groupId, chunk)]);
      const members: Record<string, unknown>[] = [];
      users.forEach((user, i) => {
        if (!user) return;
        const display = displays[i] ?? String(user.doc.displayName ?? user.doc.userName ?? '');
        members.push(renderMember({ value: user.id, display }, baseUrl));
      });
      // Projected as a group holding only this chunk: member selections (`members.value`, value filters) apply per member.
      const projected = project({ schemas: [GROUP_SCHEMA], members }, projection).members;
      yield Array.isArray(projected) ? projected : [];
    }
  }
}

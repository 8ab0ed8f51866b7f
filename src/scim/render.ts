
import type { MemberRef, StoredResource } from '../model/resource';
import { GROUP_SCHEMA, USER_SCHEMA } from './urns';

/**
 * Stored document -> the SCIM representation: `schemas` and `id` first, the stored attributes, the
 * memberships (kept outside the document by the store), then `meta` from the store's bookkeeping.
 */

type Resource = Record<string, unknown> & { id: string };

/** meta.version, and the ETag header: weak, since equal versions are equal resources, not equal bytes. */
export function versionTag(version: number): string {
  return `W/"${version}"`;
}

function meta(stored: StoredResource, resourceType: 'User' | 'Group', location: string) {
  return {
    resourceType,
    created: new Date(stored.created).toISOString(),
    lastModified: new Date(stored.lastModified).toISOString(),
    location,
    version: versionTag(stored.version),
  };
}

function body(stored: StoredResource, fallbackSchema: string): Resource {
  // id, meta and memberships come from the store's bookkeeping, never from the document.
  const { schemas, id: _id, meta: _meta, groups: _groups, members: _members, ...attributes } = stored.doc;
  return { schemas: Array.isArray(schemas) ? schemas : [fallbackSchema], id: stored.id, ...attributes };
}

export function renderUser(stored: StoredResource, groups: MemberRef[], baseUrl: string): Resource {
  const base = trimBase(baseUrl);
  const user = body(stored, USER_SCHEMA);
  if (groups.length > 0) {
    user.groups = groups.map((g) => ({ ...g, $ref: `${base}/Groups/${g.value}`, type: 'direct' }));
  }
  user.meta = meta(stored, 'User', `${base}/Users/${stored.id}`);
  return user;
}

/** One member as a group renders it. */
export function renderMember(member: MemberRef, baseUrl: string): Record<string, unknown> {
  return { ...member, $ref: `${trimBase(baseUrl)}/Users/${member.value}`, type: 'User' };
}

/** `members` undefined: not loaded (excludedAttributes=members), so not rendered; [] renders an empty group. */
export function renderGroup(stored: StoredResource, members: MemberRef[] | undefined, baseUrl: string): Resource {
  const base = trimBase(baseUrl);
  const group = body(stored, GROUP_SCHEMA);
  if (members) {
    group.members = members.map((m) => renderMember(m, base));
  }
  group.meta = meta(stored, 'Group', `${base}/Groups/${stored.id}`);
  return group;
}

/** `https://h/scim/v2/` and `https://h/scim/v2` name the same base: locations are built without the slash. */
export function trimBase(baseUrl: string): string {
  return baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
}

import type { ResourceKind } from './resource';

/** How the admin API and resync reports name a resource: the SCIM endpoint name, as operators know it. */
export type ResourceType = 'Users' | 'Groups';

export interface ResourceRef {
  kind: ResourceKind;
  id: string;
}

const KIND_OF_TYPE: Record<ResourceType, ResourceKind> = { Users: 'user', Groups: 'group' };

export function resourceTypeOf(kind: ResourceKind): ResourceType {
  return kind === 'user' ? 'Users' : 'Groups';
}

export function kindOfType(type: string): ResourceKind | undefined {
  return Object.hasOwn(KIND_OF_TYPE, type) ? KIND_OF_TYPE[type as ResourceType] : undefined;
}

/** "Users/<id>" or "Groups/<id>" -> {kind, id}; undefined for anything else. */
export function parseResourceRef(text: string): ResourceRef | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const kind = kindOfType(text.slice(0, slash));
  const id = text.slice(slash + 1);
  return kind && id && !id.includes('/') ? { kind, id } : undefined;
}

export function formatResourceRef({ kind, id }: ResourceRef): string {
  return `${resourceTypeOf(kind)}/${id}`;
}

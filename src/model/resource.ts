/**
 * The vocabulary every layer shares: what a resource is, as the SCIM layer accepts it, the store keeps it and the
 * reconcilers read it. Types and pure rules only: this folder imports nothing else from src/.
 */

export type ResourceKind = 'user' | 'group';

/** A JSON object, as a SCIM document or one of its complex values. */
export type Json = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A SCIM resource as JSON (validated and normalised by the SCIM layer). */
export type ScimDocument = Record<string, unknown> & { id: string };

export interface StoredResource {
  kind: ResourceKind;
  id: string;
  version: number;
  /** Milliseconds since the epoch, as meta.created / meta.lastModified render them. */
  created: number;
  lastModified: number;
  doc: ScimDocument;
}

/** A member reference as SCIM renders it. */
export interface MemberRef {
  value: string;
  display?: string;
}

/** The indexed attributes of a user: what IdPs filter on. */
export interface UserIndexFields {
  userName: string;
  externalId?: string;
  emails: string[];
  displayName?: string;
}

export interface GroupIndexFields {
  displayName: string;
  externalId?: string;
}

export interface MembershipChange {
  add?: string[];
  remove?: string[];
  /** Replace the whole member set (PUT, or PATCH replace of `members`). */
  replace?: string[];
  /** Display names the client sent with added or replacing members, by member id: echoed as members[].display. */
  displays?: Record<string, string>;
}

/**
 * Whether an id can be the id of a record. Ids are joined into keys with `:`, so an id holding one would read
 * another key (`<user id>:groups` is a set): such a value, perhaps stored as a member by an earlier version,
 * names nothing.
 */
export function canNameRecord(id: string): boolean {
  return id !== '' && !id.includes(':');
}

/** The ids this server issues are random UUIDs (POST /Users, POST /Groups). */

const ISSUED_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` has the shape of an id this server could have issued: anything else names no resource. */
export function isIssuedId(id: string): boolean {
  return ISSUED_ID.test(id);
}

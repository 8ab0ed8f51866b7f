import { createHash } from 'node:crypto';
import type { ScimDocument } from '../model/resource';
import { coderEmail } from '../model/email';

/**
 * SCIM documents -> the Coder fields they ask for. Pure: the same document always maps to the same names,
 * so a retried or duplicated reconcile plans the same operations.
 */

export const USERNAME_MAX = 32;
export const GROUP_NAME_MAX = 36;
export const DISPLAY_NAME_MAX = 64;
export const REAL_NAME_MAX = 128;

/** codersdk.UsernameValidRegex: also the rule for group names. */
const CODER_NAME = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
/** Coder rejects these as user and group names ("cannot use "new" as a name"). */
const RESERVED_NAMES = new Set(['new', 'create']);
/** Every organization has an implicit "Everyone" group; Coder refuses the name for any other. */
const RESERVED_GROUP_NAME = 'everyone';
/** Read as word boundaries, so "john.doe" becomes "john-doe" rather than "johndoe". */
const SEPARATORS = /[\s._+,;:/\\|-]+/g;

export interface DesiredUser {
  username: string;
  email: string;
  name: string;
  suspended: boolean;
}

export interface DesiredGroup {
  name: string;
  displayName: string;
}

export class MappingError extends Error {
  constructor(
    readonly code: 'no_username' | 'no_email' | 'no_display_name',
    message: string,
  ) {
    super(message);
    this.name = 'MappingError';
  }
}

export function isValidCoderName(name: string, max: number): boolean {
  return name.length <= max && CODER_NAME.test(name) && !RESERVED_NAMES.has(name.toLowerCase());
}

/** `name-n`, cutting `name` so the result still fits in `max`: how a clash is resolved. */
export function withSuffix(name: string, n: number, max: number): string {
  const suffix = `-${n}`;
  const base = name.slice(0, Math.max(0, max - suffix.length)).replace(/-+$/, '');
  return base ? `${base}${suffix}` : String(n);
}

function fallbackName(prefix: string, source: string): string {
  return `${prefix}-${createHash('sha256').update(source).digest('hex').slice(0, 8)}`;
}

/** Any text -> a valid Coder name of at most `max` characters; never empty, never reserved. */
export function sanitiseName(text: string, max: number, fallbackPrefix: string): string {
  const cleaned = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(SEPARATORS, '-')
    .replace(/[^a-zA-Z0-9-]/g, '')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  if (!cleaned) return fallbackName(fallbackPrefix, text);
  return RESERVED_NAMES.has(cleaned.toLowerCase()) ? withSuffix(cleaned, 1, max) : cleaned;
}

/** A valid Coder username is kept as is; anything else is derived from it (the local part of an e-mail). */
export function usernameFor(userName: string): string {
  if (isValidCoderName(userName, USERNAME_MAX)) return userName;
  const at = userName.lastIndexOf('@');
  return sanitiseName(at > 0 ? userName.slice(0, at) : userName, USERNAME_MAX, 'user');
}

export function groupNameFor(displayName: string): string {
  const name = isValidCoderName(displayName, GROUP_NAME_MAX) ? displayName : sanitiseName(displayName, GROUP_NAME_MAX, 'group');
  return name.toLowerCase() === RESERVED_GROUP_NAME ? withSuffix(name, 1, GROUP_NAME_MAX) : name;
}

/**
 * Whitespace runs become one space (Coder's display-name rule rejects line breaks and edge whitespace), then
 * the text is cut to `max` code points, so a name is never cut inside a character.
 */
function boundedText(text: string, max: number): string {
  return Array.from(text.replace(/\s+/g, ' ').trim()).slice(0, max).join('').trimEnd();
}

function stringField(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed || undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The primary `emails` value, else the first, else `userName` when it is an e-mail. */
/** name.formatted, else "givenName familyName", else displayName. */
export function realNameOf(doc: ScimDocument): string {
  const name = record(doc.name);
  const formatted = stringField(name.formatted);
  const parts = [stringField(name.givenName), stringField(name.familyName)].filter(Boolean).join(' ');
  return boundedText(formatted ?? (parts || stringField(doc.displayName) || ''), REAL_NAME_MAX);
}

export function mapUser(doc: ScimDocument): DesiredUser {
  const userName = stringField(doc.userName);
  if (!userName) throw new MappingError('no_username', `user ${doc.id} has no userName`);
  // The same choice the SCIM layer validated at the door, so an accepted user always maps.
  const email = coderEmail(doc);
  if (!email) throw new MappingError('no_email', `user ${doc.id} has no e-mail: Coder requires one`);
  return { username: usernameFor(userName), email, name: realNameOf(doc), suspended: doc.active === false };
}

export function mapGroup(doc: ScimDocument): DesiredGroup {
  const displayName = stringField(doc.displayName);
  if (!displayName) throw new MappingError('no_display_name', `group ${doc.id} has no displayName`);
  return { name: groupNameFor(displayName), displayName: boundedText(displayName, DISPLAY_NAME_MAX) };
}

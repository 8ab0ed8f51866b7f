import type { UserIndexFields } from '../model/resource';
import { USER_MODEL } from './catalog';
import { badRequest } from './errors';
import { MAX_EMAIL_LENGTH } from './limits';
import { isPlainObject, normaliseResource, type Json } from './normalise';
import { assertSinglePrimary } from './primary';
import { assertVisibleText } from './visible-text';

const WHITESPACE = /\s/;

/**
 * Deliberately loose: Coder validates e-mails itself; this only tells an address from a bare name (one `@`
 * with text before it, a dot inside the domain, no whitespace). One pass over the text: a backtracking
 * pattern such as /^[^\s@]+@[^\s@]+\.[^\s@]+$/ is quadratic on `a@` + many dots, and this runs again on
 * every reconcile of a stored user.
 */
export function isEmail(text: unknown): text is string {
  if (typeof text !== 'string' || text.length > MAX_EMAIL_LENGTH) return false;
  const at = text.indexOf('@');
  if (at <= 0 || text.indexOf('@', at + 1) >= 0 || WHITESPACE.test(text)) return false;
  const dot = text.indexOf('.', at + 2);
  return dot >= 0 && dot < text.length - 1;
}

function emailValues(doc: Json): Json[] {
  return Array.isArray(doc.emails) ? doc.emails.filter(isPlainObject) : [];
}

/**
 * The address Coder gets: the primary `emails` value (at most one, see primary.ts), else the first, else
 * `userName` when it is an e-mail;
 * values that are not e-mail addresses are passed over (the Microsoft test suite sends `"emailName357"`).
 */
export function coderEmail(doc: Json): string | undefined {
  const emails = emailValues(doc);
  const primary = emails.find((e) => e.primary === true);
  const ordered = primary ? [primary, ...emails.filter((e) => e !== primary)] : emails;
  const chosen = ordered.map((e) => e.value).find(isEmail);
  if (chosen) return chosen;
  return isEmail(doc.userName) ? doc.userName : undefined;
}

export function userIndexFields(doc: Json): UserIndexFields {
  const fields: UserIndexFields = {
    userName: doc.userName as string,
    emails: emailValues(doc)
      .map((e) => e.value)
      .filter((v): v is string => typeof v === 'string'),
  };
  if (typeof doc.externalId === 'string') fields.externalId = doc.externalId;
  if (typeof doc.displayName === 'string') fields.displayName = doc.displayName;
  return fields;
}

/** The rules a user document must satisfy after any write (POST, PUT or PATCH). */
export function validateUser(doc: Json): UserIndexFields {
  if (typeof doc.userName !== 'string' || doc.userName.trim() === '') {
    throw badRequest('invalidValue', 'userName is required');
  }
  for (const attribute of ['userName', 'externalId', 'displayName'] as const) assertVisibleText(attribute, doc[attribute]);
  assertSinglePrimary(USER_MODEL, doc);
  if (!coderEmail(doc)) {
    throw badRequest(
      'invalidValue',
      'Coder requires an e-mail address: send an e-mail in emails (the primary one is used) or a userName that is an e-mail address',
    );
  }
  return userIndexFields(doc);
}

/**
 * A POST or PUT body -> the document to store (without id, meta or groups) and its index fields.
 * `password` and `groups` are dropped: the bridge never stores them (memberships belong to groups).
 */
export function parseUserInput(body: unknown): { doc: Record<string, unknown>; fields: UserIndexFields } {
  const doc = normaliseResource(USER_MODEL, body);
  return { doc, fields: validateUser(doc) };
}

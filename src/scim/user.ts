import type { UserIndexFields } from '../store/types';
import { USER_MODEL } from './catalog';
import { badRequest } from './errors';
import { isPlainObject, normaliseResource, type Json } from './normalise';
import { assertSinglePrimary } from './primary';
import { assertVisibleText } from './visible-text';

/** Deliberately loose: Coder validates e-mails itself; this only tells an address from a bare name. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isEmail(text: unknown): text is string {
  return typeof text === 'string' && EMAIL.test(text);
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

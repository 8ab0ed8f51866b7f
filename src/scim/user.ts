import type { UserIndexFields } from '../model/resource';
import { USER_MODEL } from './catalog';
import { badRequest } from './errors';
import { coderEmail, emailValues } from '../model/email';
import { normaliseResource } from './normalise';
import type { Json } from '../model/resource';
import { assertSinglePrimary } from './primary';
import { assertVisibleText } from './visible-text';

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

import { isPlainObject, type Json } from './resource';

/** RFC 5321's limit on an address in a mail path. */
export const MAX_EMAIL_LENGTH = 254;

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

export function emailValues(doc: Json): Json[] {
  return Array.isArray(doc.emails) ? doc.emails.filter(isPlainObject) : [];
}

/**
 * The address Coder gets: the primary `emails` value (at most one, see scim/primary.ts), else the first, else
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

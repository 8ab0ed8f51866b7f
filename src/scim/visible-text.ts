import { badRequest } from './errors';

/**
 * Identifying strings (userName, externalId, displayName) must read as they compare: bidi controls, zero-width
 * and other format characters (Unicode Cf) and C1 controls make two different values look alike, or one value
 * display as another ("admin\u202Enimda").
 */
const INVISIBLE = /[\p{Cf}\u0080-\u009F]/u;

function codePoint(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** 400 invalidValue naming the attribute and the first offending character; anything but a string passes. */
export function assertVisibleText(attribute: string, value: unknown): void {
  if (typeof value !== 'string') return;
  const found = INVISIBLE.exec(value);
  if (!found) return;
  throw badRequest(
    'invalidValue',
    `${attribute} contains ${codePoint(found[0])}, an invisible format or control character (bidi control, zero-width character or C1 control): not accepted in identifying attributes`,
  );
}

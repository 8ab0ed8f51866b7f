import { ScimError } from '../scim/errors';

/**
 * Limits on the shape of a parsed request body, checked before any SCIM code walks it: a body within the byte
 * limit can still nest thousands of levels deep (recursive code overflows its stack), carry an array of tens of
 * thousands of entries, or hold strings no identity provider sends (control characters, broken UTF-16).
 */

/** SCIM resources nest about four levels (an extension's complex attribute); PATCH values one more. */
export const MAX_JSON_DEPTH = 32;
/** Entries in any one array: the members of one group create or one PATCH, the e-mails of one user. */
export const MAX_ARRAY_ITEMS = 10_000;

/** C0 controls other than tab, line feed and carriage return, and DEL. */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export class JsonLimitError extends ScimError {
  constructor(detail: string) {
    super(400, detail, 'invalidValue');
  }
}

function checkString(text: string): void {
  if (CONTROL_CHARACTER.test(text)) throw new JsonLimitError('A string in the request contains a control character');
  if (UNPAIRED_SURROGATE.test(text)) throw new JsonLimitError('A string in the request contains an unpaired UTF-16 surrogate');
}

/** Throws JsonLimitError on the first violation. Iterative, so depth itself cannot overflow the stack. */
export function checkJsonLimits(body: unknown): void {
  const stack: { value: unknown; depth: number }[] = [{ value: body, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value === 'string') {
      checkString(value);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) throw new JsonLimitError(`The request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
    if (Array.isArray(value)) {
      if (value.length > MAX_ARRAY_ITEMS) throw new JsonLimitError(`An array in the request has ${value.length} entries; at most ${MAX_ARRAY_ITEMS} are accepted (send members in several PATCH requests)`);
      for (const item of value) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      checkString(key);
      stack.push({ value: item, depth: depth + 1 });
    }
  }
}

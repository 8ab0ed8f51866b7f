import type { Request } from 'express';
import { ScimError } from '../scim/errors';
import { versionTag } from '../scim/render';
import type { StoredResource } from '../model/resource';

/**
 * ETags (RFC 7644 §3.14), which ServiceProviderConfig advertises: a resource's ETag is `W/"<version>"`, as
 * meta.version renders it. `If-Match` on PUT, PATCH and DELETE refuses a write to any other version (412), and
 * `If-None-Match` on GET answers 304 when the client's copy is current. Weak and strong forms of one tag match.
 */

type TagList = '*' | Set<string>;

/** `W/"3", "4"` -> {"3", "4"}; `*` -> '*'; undefined when the header is absent. */
function parseTags(header: string | undefined): TagList | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return '*';
  const tags = new Set<string>();
  for (const match of header.matchAll(/(?:W\/)?"([^"]*)"/g)) tags.add(match[1]);
  return tags;
}

function matches(tags: TagList, stored: StoredResource): boolean {
  return tags === '*' || tags.has(String(stored.version));
}

/** Throws 412 preconditionFailed when the request's If-Match names no tag of `stored`. Call it with the version being replaced. */
export function checkIfMatch(req: Request, stored: StoredResource): void {
  const tags = parseTags(req.get('if-match'));
  if (tags === undefined || matches(tags, stored)) return;
  throw new ScimError(
    412,
    `If-Match does not match: ${stored.kind === 'user' ? 'User' : 'Group'} ${stored.id} is now at version ${versionTag(stored.version)}; read it again before changing it`,
    'preconditionFailed',
  );
}

/** Whether a GET may answer 304 Not Modified: its If-None-Match names the current version. */
export function notModified(req: Request, stored: StoredResource): boolean {
  const tags = parseTags(req.get('if-none-match'));
  return tags !== undefined && matches(tags, stored);
}

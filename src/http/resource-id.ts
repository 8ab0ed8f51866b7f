import type { RequestParamHandler } from 'express';
import { ScimError } from '../scim/errors';
import { isIssuedId } from '../model/resource';

/**
 * `router.param('id', ...)`: an `:id` this server could not have issued is a 404 before any store lookup, so a
 * crafted id (`<id>:groups`, `*`, 5,000 characters) never reaches a key.
 */
export function issuedIdParam(resource: 'User' | 'Group'): RequestParamHandler {
  return (_req, _res, next, id: string) => {
    if (isIssuedId(id)) next();
    else next(new ScimError(404, `${resource} not found: "${id.slice(0, 64)}" is not an id this server issues`));
  };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ScimError } from '../scim/errors';
import type { AuthFailureLog } from './auth-failure-log';
import type { FailedAuthLimiter } from './auth-limiter';

/**
 * Accepted bearer tokens, several at once so a token can be rotated without downtime. Both sides are hashed
 * first so every comparison has the same length, and every token is compared (no early exit), so the time
 * taken says nothing about which token, or how much of one, matched.
 */
export class TokenSet {
  private digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(sha256);
  }

  /** A rotated secret file (see runtime/secret-files.ts): the next request is checked against the new tokens. */
  replace(tokens: readonly string[]): void {
    this.digests = tokens.map(sha256);
  }

  accepts(presented: string): boolean {
    const digest = sha256(presented);
    let accepted = false;
    for (const expected of this.digests) accepted = timingSafeEqual(digest, expected) || accepted;
    return accepted;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

const BEARER = /^Bearer +(\S+) *$/i;

type AuthFailure = 'missing' | 'not_bearer' | 'invalid';

export class AuthError extends ScimError {
  constructor(readonly reason: AuthFailure) {
    super(401, reason === 'missing' ? 'Authorization: Bearer <token> is required' : 'The bearer token is not valid');
  }
}

export class TooManyAuthFailures extends ScimError {
  constructor(readonly retryAfterSeconds: number) {
    // No scimType: RFC 7644's "tooMany" is a 400 about result sizes, not a rate limit.
    super(429, `Too many failed authentications from this address; retry in ${retryAfterSeconds} s`);
  }
}

export interface BearerAuthOptions {
  /** Names the protected surface in logs ("scim", "admin"). */
  scope: string;
  tokens: TokenSet;
  limiter: FailedAuthLimiter;
  failures: AuthFailureLog;
}

/**
 * A valid token always gets in: it is checked before the limiter is asked. A request without an Authorization
 * header costs a 401 and nothing else (no hashing, no count against its address). A wrong token counts against
 * its client, which is answered 429 once past the limit; the client presenting a valid token from the same
 * address (the IdP behind the same ingress) is not.
 */
export function bearerAuth({ scope, tokens, limiter, failures }: BearerAuthOptions): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization;
    const requestId = res.locals.requestId as string | undefined;
    if (!header) {
      failures.record({ scope, reason: 'missing', address: req.ip, requestId });
      res.set('WWW-Authenticate', `Bearer realm="${scope}"`);
      next(new AuthError('missing'));
      return;
    }
    const match = BEARER.exec(header);
    if (match && tokens.accepts(match[1])) {
      next();
      return;
    }
    const reason: AuthFailure = match ? 'invalid' : 'not_bearer';
    failures.record({ scope, reason, address: req.ip, requestId });
    const retryAfter = limiter.retryAfterSeconds(req.ip);
    if (retryAfter > 0) {
      res.set('Retry-After', String(retryAfter));
      next(new TooManyAuthFailures(retryAfter));
      return;
    }
    limiter.recordFailure(req.ip);
    res.set('WWW-Authenticate', `Bearer realm="${scope}"`);
    next(new AuthError(reason));
  };
}

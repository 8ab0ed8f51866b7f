import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../log';
import { ScimError } from '../scim/errors';
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

function authenticate(header: string | undefined, tokens: TokenSet): AuthFailure | undefined {
  if (!header) return 'missing';
  const match = BEARER.exec(header);
  if (!match) return 'not_bearer';
  return tokens.accepts(match[1]) ? undefined : 'invalid';
}

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
  /** Names the protected surface in logs ("scim", "admin", "metrics"). */
  scope: string;
  tokens: TokenSet;
  limiter: FailedAuthLimiter;
  logger: Logger;
}

/** Blocked addresses are refused before their token is looked at (see FailedAuthLimiter). */
export function bearerAuth({ scope, tokens, limiter, logger }: BearerAuthOptions): RequestHandler {
  return (req, res, next) => {
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const retryAfter = limiter.retryAfterSeconds(address);
    if (retryAfter > 0) {
      res.set('Retry-After', String(retryAfter));
      next(new TooManyAuthFailures(retryAfter));
      return;
    }
    const failure = authenticate(req.headers.authorization, tokens);
    if (failure === undefined) {
      next();
      return;
    }
    limiter.recordFailure(address);
    logger.warn({ event: 'auth_failed', scope, reason: failure, address, requestId: res.locals.requestId }, 'authentication failed');
    res.set('WWW-Authenticate', `Bearer realm="${scope}"`);
    next(new AuthError(failure));
  };
}

import type { IncomingMessage } from 'node:http';
import express, { type RequestHandler } from 'express';
import { ScimError } from '../scim/errors';
import { checkJsonLimits } from './json-limits';

/**
 * Request bodies (SCIM and admin). JSON is accepted as `application/json` (Okta), `application/scim+json` (Entra) or any
 * `+json` type. A body sent WITHOUT a Content-Type is parsed as JSON too: a SCIM endpoint speaks nothing
 * else, and refusing it would only break lenient clients. A body with another content type is refused (415),
 * but a Content-Type on a body-less request (Okta sends one on GETs) is harmless and ignored.
 */

function mediaType(req: IncomingMessage): string | undefined {
  const header = req.headers['content-type'];
  return header ? header.split(';')[0].trim().toLowerCase() : undefined;
}

export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || type === 'application/scim+json' || type.endsWith('+json');
}

function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

function parsesAsJson(req: IncomingMessage): boolean {
  const type = mediaType(req);
  return type === undefined || isJsonMediaType(type);
}

const rejectForeignBodies: RequestHandler = (req, _res, next) => {
  if (hasBody(req) && !parsesAsJson(req)) {
    next(new ScimError(415, `Unsupported Content-Type "${mediaType(req)}": send application/scim+json or application/json`));
    return;
  }
  next();
};

/**
 * A declared length over the limit is refused before a byte is read: body-parser would first read the whole
 * body off the wire (however slowly it trickles in) to keep the connection reusable; the 413 closes it instead.
 */
function rejectDeclaredOversize(maxBytes: number): RequestHandler {
  return (req, _res, next) => {
    const length = Number(req.headers['content-length']);
    next(length > maxBytes ? bodyTooLarge() : undefined);
  };
}

export function bodyTooLarge(): ScimError {
  return new ScimError(413, 'The request body is larger than this server accepts');
}

const enforceJsonLimits: RequestHandler = (req, _res, next) => {
  try {
    checkJsonLimits(req.body);
    next();
  } catch (err) {
    next(err);
  }
};

/** Oversized bodies fail with body-parser's `entity.too.large`, which the error handler turns into 413. */
export function jsonBodyParser(maxBytes: number): RequestHandler[] {
  return [rejectForeignBodies, rejectDeclaredOversize(maxBytes), express.json({ limit: maxBytes, type: parsesAsJson }), enforceJsonLimits];
}

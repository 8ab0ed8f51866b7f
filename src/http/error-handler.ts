import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../log';
import { ScimError, scimErrorBody } from '../scim/errors';
import { StoreError } from '../store/types';
import { sendScim } from './scim-response';

/** Seconds an IdP should wait before retrying while Redis is unreachable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** What body-parser attaches to the errors it raises (`type` names the failure). */
interface BodyParserError {
  status?: number;
  type?: string;
}

function fromBodyParser(err: BodyParserError): ScimError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new ScimError(400, 'The request body is not valid JSON', 'invalidSyntax');
    case 'entity.too.large':
      return new ScimError(413, 'The request body is larger than this server accepts');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ScimError(415, 'The request body must be UTF-8 encoded JSON');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new ScimError(400, 'The request body could not be read', 'invalidSyntax');
    default:
      return undefined;
  }
}

function fromStore(err: StoreError): ScimError {
  switch (err.code) {
    case 'not_found':
      return new ScimError(404, err.message);
    case 'uniqueness':
      return new ScimError(409, err.message, 'uniqueness');
    case 'version_conflict':
    case 'unavailable':
      return new ScimError(503, 'The service is temporarily unavailable; retry later');
  }
}

/**
 * Every failure leaves as a SCIM Error body. Client mistakes keep their 4xx; only our own faults (a bug, Redis
 * down) give 5xx, and those are logged, since the client cannot act on them.
 */
export function scimErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const scimError = toScimError(err);
    if (scimError.status >= 500) {
      logger.error(
        { event: 'request_failed', err, method: req.method, route: res.locals.route, requestId: res.locals.requestId },
        'request failed',
      );
    }
    sendScimErrorResponse(res, scimError);
  };
}

export function toScimError(err: unknown): ScimError {
  if (err instanceof ScimError) return err;
  if (err instanceof StoreError) return fromStore(err);
  const parsed = err !== null && typeof err === 'object' ? fromBodyParser(err as BodyParserError) : undefined;
  return parsed ?? new ScimError(500, 'Internal server error');
}

export function sendScimErrorResponse(res: Response, err: ScimError): void {
  if (err.status === 503) res.set('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
  sendScim(res, err.status, scimErrorBody(err));
}

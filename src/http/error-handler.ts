import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../log';
import { ScimError, scimErrorBody } from '../scim/errors';
import { StoreError } from '../store/types';
import { bodyTooLarge } from './body';
import { sendScim } from './scim-response';

/** Seconds an IdP should wait before retrying while Redis is unreachable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** What body-parser and Express's router attach to the errors they raise (http-errors' shape). */
interface HttpLayerError {
  status?: number;
  statusCode?: number;
  /** body-parser's name for the failure. */
  type?: string;
}

function fromBodyParser(err: HttpLayerError): ScimError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new ScimError(400, 'The request body is not valid JSON', 'invalidSyntax');
    case 'entity.too.large':
      return bodyTooLarge();
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

/**
 * Any other 4xx raised below the routes (the router's URIError for a malformed %-escape in a path parameter, an
 * http-errors 4xx): the client's fault, so a SCIM 4xx with a fixed detail (their messages quote the input).
 */
function fromHttpLayer(err: HttpLayerError): ScimError | undefined {
  const status = err.status ?? err.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (err instanceof URIError) return new ScimError(400, 'The request path holds a malformed %-escape', 'invalidSyntax');
  return new ScimError(status, 'The request could not be processed as sent');
}

/** Statuses after which the connection is closed: whatever body the client is still sending is not read. */
const CLOSE_AFTER = new Set([401, 413, 429]);

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
  if (err === null || typeof err !== 'object') return new ScimError(500, 'Internal server error');
  const httpError = err as HttpLayerError;
  return fromBodyParser(httpError) ?? fromHttpLayer(httpError) ?? new ScimError(500, 'Internal server error');
}

export function sendScimErrorResponse(res: Response, err: ScimError): void {
  if (err.status === 503) res.set('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
  if (CLOSE_AFTER.has(err.status)) res.set('Connection', 'close');
  sendScim(res, err.status, scimErrorBody(err));
}

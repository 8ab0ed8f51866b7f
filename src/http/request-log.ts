import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';

/** A client-sent request id is echoed only when it is short and plain, so it cannot forge log content. */
const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Route label for requests that matched no route: keeps metric cardinality bounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Marks the route template a request is served by, for logs and metrics (never the raw URL: filters hold PII). */
export function routeLabel(template: string): RequestHandler {
  return (_req, res, next) => {
    res.locals.route = template;
    next();
  };
}

/**
 * One structured line per request: method, route template, status, duration, request id. Never the
 * Authorization header, the query string or the body.
 */
export function requestLog(logger: Logger, metrics?: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const sent = req.headers['x-request-id'];
    const requestId = typeof sent === 'string' && ACCEPTABLE_REQUEST_ID.test(sent) ? sent : randomUUID();
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = typeof res.locals.route === 'string' ? res.locals.route : UNMATCHED_ROUTE;
      logger.info(
        { event: 'http_request', method: req.method, route, status: res.statusCode, durationMs: Math.round(seconds * 1e4) / 10, requestId },
        'request',
      );
      metrics?.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics?.httpDuration.observe({ method: req.method, route }, seconds);
    });
    next();
  };
}

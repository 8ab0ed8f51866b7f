import { readFileSync } from 'node:fs';
import { createServer as createPlainServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Config } from '../config';
import type { Logger } from '../log';

/** A client gets this long to send its request line and headers; a trickle of header bytes does not extend it. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Okta closes the socket after 60 s; a slow client must not hold a connection longer than that. */
export const REQUEST_TIMEOUT_MS = 60_000;
/** Above the 60 s idle timeout of common load balancers, so they never reuse a socket the bridge is closing. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** How often Node looks for connections past those timeouts (its default, 30 s, would let them overstay). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
const DROP_LOG_INTERVAL_MS = 60_000;

/**
 * The HTTP(S) server around an app, with the connection rules of the edge: header and request timeouts,
 * and at most MAX_CONNECTIONS open sockets. When the cap is reached, idle keep-alive sockets are closed so
 * that the next connection (the IdP's retry) finds room.
 */
export function createHttpServer(config: Pick<Config, 'tls' | 'maxConnections'>, app: RequestListener, logger?: Logger): Server {
  const options: ServerOptions = {
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  const server = config.tls
    ? createTlsServer({ ...options, cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }, app)
    : createPlainServer(options, app);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = config.maxConnections;
  let dropped = 0;
  let loggedAt = 0;
  server.on('drop', () => {
    server.closeIdleConnections();
    dropped += 1;
    if (Date.now() - loggedAt < DROP_LOG_INTERVAL_MS) return;
    logger?.warn({ event: 'connections_dropped', dropped, maxConnections: config.maxConnections }, 'connection cap reached: new connections dropped');
    loggedAt = Date.now();
    dropped = 0;
  });
  return server;
}

import pino, { type Logger } from 'pino';
import { serializeError } from './log-errors';

/** Paths whose values never reach a log line, wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["coder-session-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["coder-session-token"]',
  'authorization',
  'token',
  'password',
  '*.password',
  '*.token',
  'body.password',
  'config.coder.token',
  'config.scim.tokens',
  'config.adminToken',
];

/**
 * Standard output is written asynchronously: a synchronous write blocks the event loop whenever the reader
 * of the pipe (a log collector, a container runtime) falls behind, stalling every request and reconcile.
 * pino flushes what is buffered when the process exits.
 */
export function createLogger(level = 'info', destination: pino.DestinationStream = pino.destination({ dest: 1, sync: false })): Logger {
  return pino(
    {
      level,
      base: { service: 'coder-scim-bridge' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/**
 * Ends the process once every log line is written. process.exit() alone loses a line whose asynchronous write is
 * still in flight (pino's exit hook can only write out what is still buffered), such as the final `stopped`.
 */
export function exitAfterLogs(logger: Logger, code: number, timeoutMs = 2_000): void {
  const exit = () => process.exit(code);
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as (NodeJS.EventEmitter & { end?: () => void }) | undefined;
  if (typeof stream?.end !== 'function') return exit();
  setTimeout(exit, timeoutMs).unref();
  // SonicBoom's end() waits for the write in flight, writes the rest, and emits 'close' (it never closes fd 1).
  stream.once('close', exit);
  stream.end();
}

export type { Logger };

import pino, { type Logger } from 'pino';

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

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'coder-scim-bridge' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };

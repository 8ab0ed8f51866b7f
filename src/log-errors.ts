/**
 * How an error appears in a log line (pino's `err` serializer). Only what says what failed and where: its class,
 * code, message and stack frames. Never its other properties: an ioredis error carries the command and its
 * arguments (stored SCIM documents, personal data), an HTTP error may carry a body.
 */

const MAX_MESSAGE_CHARS = 500;
const MAX_CAUSE_DEPTH = 3;

export interface LoggedError {
  type: string;
  message: string;
  code?: string | number;
  stack?: string;
  cause?: LoggedError | { type: string };
}

/** An error's message, or the thrown value as text (a library may throw a string). */
export function errorMessage(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}

export function serializeError(value: unknown): unknown {
  if (typeof value === 'string') return scrubMessage(value);
  if (value instanceof Error) return describe(value, 0);
  return value === undefined || value === null ? value : { type: typeof value };
}

function describe(err: Error, depth: number): LoggedError {
  const logged: LoggedError = { type: err.name, message: scrubMessage(err.message) };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') logged.code = code;
  const frames = stackFrames(err.stack);
  if (frames) logged.stack = frames;
  if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    logged.cause = err.cause instanceof Error ? describe(err.cause, depth + 1) : { type: typeof err.cause };
  }
  return logged;
}

/** The "    at ..." lines only: the stack's first line repeats the message, unscrubbed. */
function stackFrames(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  const frames = stack.split('\n').filter((line) => line.startsWith('    at '));
  return frames.length > 0 ? frames.join('\n') : undefined;
}

/**
 * JSON.parse quotes the text it failed on (`Unexpected token 'x', "{"userName":...}" is not valid JSON`): for a
 * stored document that is personal data, so the quoted input is cut. Long messages are cut too.
 */
const JSON_SUFFIX = ' is not valid JSON';

function scrubMessage(message: string): string {
  const quoted = message.endsWith(JSON_SUFFIX) ? message.indexOf('"') : -1;
  const scrubbed = quoted >= 0 ? `${message.slice(0, quoted)}(input omitted)${JSON_SUFFIX}` : message;
  return scrubbed.length > MAX_MESSAGE_CHARS ? `${scrubbed.slice(0, MAX_MESSAGE_CHARS)}…` : scrubbed;
}

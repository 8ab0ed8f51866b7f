import { StoreError } from './types';
import type { ScriptReply } from './scripts';

/** A compare-and-set script found the resource changed since it was read: read again and retry. */
export const CONFLICT = Symbol('conflict');
export type Attempt<T> = T | typeof CONFLICT;

/** Enough for 100 concurrent writers to one resource to all get through (each round lets at least one win). */
export const MAX_ATTEMPTS = 200;
const MAX_JITTER_MS = 50;

/**
 * Optimistic concurrency: runs `attempt` (read, compute, compare-and-set) until it does not conflict. The
 * growing random pause spreads contenders out so that a hot resource converges instead of livelocking.
 */
export async function retryOnConflict<T>(what: string, attempt: () => Promise<Attempt<T>>): Promise<T> {
  for (let round = 0; round < MAX_ATTEMPTS; round++) {
    const result = await attempt();
    if (result !== CONFLICT) return result;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** round, MAX_JITTER_MS)));
  }
  throw new StoreError('version_conflict', `${what} kept changing: gave up after ${MAX_ATTEMPTS} attempts`);
}

/** Turns a script's status into the outcome: its reply, CONFLICT, or the StoreError it stands for. */
export function scriptOutcome(reply: ScriptReply, what: string): Attempt<ScriptReply> {
  switch (reply[0]) {
    case 'ok':
      return reply;
    case 'conflict':
      return CONFLICT;
    case 'not_found':
      throw new StoreError('not_found', `${what} not found`);
    case 'exists':
      throw new StoreError('uniqueness', `${what} already exists`);
    case 'uniqueness':
      throw new StoreError('uniqueness', `${what}: ${describeIndexKey(String(reply[1]))} is already taken`);
    default:
      throw new Error(`unexpected script reply ${JSON.stringify(reply)}`);
  }
}

/** `prefix:idx:user:userName:bob` -> `userName "bob"` (prefixes never contain ':'). */
function describeIndexKey(key: string): string {
  const [, , , attribute, ...value] = key.split(':');
  return `${attribute} "${value.join(':')}"`;
}

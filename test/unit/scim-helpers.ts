import { ScimError } from '../../src/scim/errors';

/** The ScimError `run` throws; fails the test if it throws anything else or nothing. */
export function scimErrorOf(run: () => unknown): ScimError {
  try {
    run();
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw err;
  }
  throw new Error('expected a ScimError, but nothing was thrown');
}

/** Mean microseconds per call of `run` over `rounds` calls. */
export function microsecondsPerCall(rounds: number, run: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) run();
  return Number(process.hrtime.bigint() - start) / 1000 / rounds;
}

export function patchOp(...Operations: unknown[]): unknown {
  return { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations };
}

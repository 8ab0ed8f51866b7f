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

const BATCHES = 5;

/**
 * Microseconds per call of `run`, `rounds` calls in all: the mean of the fastest of a few batches. Test files
 * run in parallel on a shared machine, so one batch may lose the CPU to another process; the fastest batch
 * measures the code, not the scheduler.
 */
export function microsecondsPerCall(rounds: number, run: () => unknown): number {
  const perBatch = Math.ceil(rounds / BATCHES);
  let best = Infinity;
  for (let batch = 0; batch < BATCHES; batch++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1000 / perBatch);
  }
  return best;
}

export function patchOp(...Operations: unknown[]): unknown {
  return { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations };
}

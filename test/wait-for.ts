/** Thrown when a condition a test waits for does not hold in time. */
export class WaitTimeoutError extends Error {
  readonly code = 'wait_timeout';
}

/**
 * Polls `condition` until it holds: tests wait for what they need instead of sleeping a fixed time, so they
 * are as fast as the machine allows and still pass on a loaded one.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what = 'the condition', intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

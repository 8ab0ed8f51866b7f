/**
 * Tests that need something the repository does not hold (Microsoft's conformance collection, promtool) run
 * when it is there. Without it they are skipped with one line in jest's default output, which otherwise lists
 * neither skipped tests nor console calls compactly; under CI they must run, so there a missing one fails.
 */

export const underCI = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());

export function announceSkip(what: string, howToEnable: string): void {
  process.stderr.write(`SKIPPED ${what}: ${howToEnable}\n`);
}

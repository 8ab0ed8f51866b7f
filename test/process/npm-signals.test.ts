import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { freePort } from '../e2e/harness';
import { REDIS_URL } from '../redis';

/**
 * `npm start` and `npm run demo` stop cleanly when the signal goes to npm's process (a terminal's Ctrl-C reaches
 * the whole group, but a supervisor or `kill <npm pid>` signals npm alone, and dash does not pass it on).
 */

const ROOT = resolve(__dirname, '..', '..');
const GONE_MS = 15_000;

function groupMembers(pgid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
  } catch {
    return []; // ps exits 1 when there is none
  }
}

let child: ChildProcess | undefined;
afterEach(() => {
  // After a failure: nothing this test started may outlive it.
  if (child?.pid) for (const pid of groupMembers(child.pid)) process.kill(pid, 'SIGKILL');
});

async function runAndSignal(script: string, env: Record<string, string>, ready: RegExp): Promise<{ output: string; left: number[] }> {
  let output = '';
  // Its own process group, so the test can see every process npm started, and signal npm alone.
  child = spawn('npm', ['run', '--silent', script], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  // Output still in the pipes when the last process exits arrives after: read it all before judging it.
  const drained = new Promise<void>((done) => child!.once('close', () => done()));
  const deadline = Date.now() + 90_000;
  while (!ready.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm run ${script} never became ready; it printed:\n${output}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  const pgid = child.pid!;
  expect(groupMembers(pgid).length).toBeGreaterThan(1);
  process.kill(pgid, 'SIGTERM');
  const gone = Date.now() + GONE_MS;
  while (groupMembers(pgid).length > 0 && Date.now() < gone) await new Promise((done) => setTimeout(done, 100));
  const left = groupMembers(pgid);
  if (left.length === 0) await drained;
  return { output, left };
}

test('npm run demo: SIGTERM to npm stops the demo and everything it started', async () => {
  const { output, left } = await runAndSignal('demo', { PORT: '0', REDIS_URL }, /Watching the simulated Coder/);
  expect(left).toEqual([]);
  expect(output).toContain('stopped');
}, 120_000);

test('npm start: SIGTERM to npm stops the bridge gracefully', async () => {
  const env = {
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    REDIS_URL,
    REDIS_PREFIX: `npm-start-${randomUUID()}`,
    // Nothing listens there: the bridge starts anyway and waits for Coder.
    CODER_URL: `http://127.0.0.1:${await freePort()}`,
    CODER_SESSION_TOKEN: 'unused-token',
    SCIM_BEARER_TOKEN: `scim-${randomUUID()}`,
    RESYNC_INTERVAL: '0',
  };
  const { output, left } = await runAndSignal('start', env, /"event":"listening"/);
  expect(left).toEqual([]);
  expect(output).toMatch(/"event":"stopped"/);
}, 150_000);

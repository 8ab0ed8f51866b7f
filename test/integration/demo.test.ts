import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { request } from 'undici';
import { freePort } from '../e2e/harness';

/**
 * `npm run demo` as a newcomer runs it, with no Redis answering: it starts its own redis-server, prints the
 * SCIM URL, token and curl commands; the printed user request lands in the simulated Coder and the demo says
 * so; Ctrl-C (SIGINT) stops it and every process it started.
 */

const ROOT = resolve(__dirname, '..', '..');
const WAIT_MS = 30_000;
const CHILDREN_GONE_MS = 5_000;

let demo: ChildProcess;
let output = '';

function waitForOutput(pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((done, fail) => {
    const check = () => {
      const match = pattern.exec(output);
      if (!match) return false;
      clearTimeout(timer);
      demo.stdout?.off('data', check);
      done(match);
      return true;
    };
    const timer = setTimeout(() => fail(new Error(`demo never printed ${pattern}; it printed:\n${output}`)), WAIT_MS);
    if (!check()) demo.stdout?.on('data', check);
  });
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
  } catch {
    return []; // ps exits 1 when there is none
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(() => {
  // After a failure: stop what the demo started too, or its redis-server outlives the test.
  if (demo.exitCode !== null || demo.signalCode !== null) return;
  for (const pid of childrenOf(demo.pid ?? -1)) process.kill(pid, 'SIGKILL');
  demo.kill('SIGKILL');
});

test('prints how to use it, shows the user arriving in Coder, and Ctrl-C stops everything it started', async () => {
  const silentRedisPort = await freePort();
  demo = spawn(process.execPath, ['--require', 'tsx/cjs', 'scripts/demo.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', REDIS_URL: `redis://127.0.0.1:${silentRedisPort}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  demo.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));

  const [, baseUrl] = await waitForOutput(/SCIM base URL: +(\S+)/);
  const [, token] = await waitForOutput(/SCIM token: +(\S+)/);
  const [, redisUrl] = await waitForOutput(/Redis: +(\S+) \(redis-server started/);
  expect(redisUrl).not.toBe(`redis://127.0.0.1:${silentRedisPort}`);
  const [, curlUrl, curlToken, curlBody] = await waitForOutput(/curl -s -X POST (\S+\/Users) -H 'Authorization: Bearer (\S+)' .* -d '(.+)'/);
  expect(curlUrl).toBe(`${baseUrl}/Users`);
  expect(curlToken).toBe(token);

  const created = await request(curlUrl, { method: 'POST', headers: { authorization: `Bearer ${curlToken}`, 'content-type': 'application/scim+json' }, body: curlBody });
  expect(created.statusCode).toBe(201);
  const { userName } = (await created.body.json()) as { userName: string };
  await waitForOutput(new RegExp(`\\[coder\\] user created: \\S+ <${userName.replace(/\./g, '\\.')}> \\(\\w+\\)`));

  const started = childrenOf(demo.pid ?? -1);
  expect(started.length).toBeGreaterThan(0); // at least its redis-server
  const exit = new Promise<number | null>((done) => demo.once('exit', (code) => done(code)));
  demo.kill('SIGINT');
  expect(await exit).toBe(0);
  // Allow a moment: under load a child was once still present just after the demo's exit event.
  const deadline = Date.now() + CHILDREN_GONE_MS;
  while (started.some(alive) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
  expect(started.filter(alive)).toEqual([]);
  expect(output).toContain('stopped');
}, 60_000);

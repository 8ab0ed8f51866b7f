import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config';
import { FIXED_CODER_TOKEN, FIXED_SCIM_TOKEN } from '../fixtures/tokens';
import { deleteTestKeys, REDIS_URL, testRedis } from '../redis';

/**
 * No Docker engine runs here: the Dockerfile is read and its final stage's steps are performed by hand in a
 * clean directory (production install, compiled output, the HEALTHCHECK command itself).
 */

const ROOT = join(__dirname, '..', '..');
const execFileAsync = promisify(execFile);

/** Runs one build step; a failure carries the tool's own output, not just "Command failed". */
async function step(command: string, args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
const SLOW = 180_000;

interface Instruction { keyword: string; args: string }
interface Stage { name?: string; from: string; instructions: Instruction[] }

/** Dockerfile -> stages of instructions (continuations joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    if (keyword.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args)!;
      stages.push({ from, name, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push({ keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const finalStage = stages[stages.length - 1];
const buildStage = stages[0];
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const one = (stage: Stage, keyword: string) => {
  const found = all(stage, keyword);
  expect(found).toHaveLength(1);
  return found[0];
};
const healthcheckArgv: string[] = JSON.parse(/CMD (\[.*\])$/.exec(one(finalStage, 'HEALTHCHECK'))![1]);
const minimalEnv = { CODER_URL: 'http://127.0.0.1:1', CODER_SESSION_TOKEN: FIXED_CODER_TOKEN, SCIM_BEARER_TOKEN: FIXED_SCIM_TOKEN };

/** Runs the image's HEALTHCHECK command against a port; resolves to its exit code. */
function healthcheck(port: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(healthcheckArgv[0], healthcheckArgv.slice(1), { env: { PATH: process.env.PATH, PORT: String(port) }, stdio: 'ignore' });
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('Dockerfile', () => {
  test('builds in one stage and ships a production-only install of the build output in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(buildStage.name).toBeDefined();
    expect(all(buildStage, 'RUN').some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(all(buildStage, 'RUN')).toContain('npm run build');
    expect(finalStage.from).toBe('${NODE_IMAGE}');
    expect(buildStage.from).toBe('${NODE_IMAGE}');
    expect(all(finalStage, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(all(finalStage, 'COPY')).toContain(`--from=${buildStage.name} /app/dist ./dist`);
  });

  test('the base image is a supported Node LTS (22 or 24) slim or alpine image, pinned by digest', () => {
    const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    // Node 20 reached its end of life on 2026-04-30: no more security fixes.
    const [, major] = /^node:(\d+)(?:\.\d+){0,2}-(?:slim|alpine|bookworm-slim)@sha256:[0-9a-f]{64}$/.exec(arg ?? '') ?? [];
    expect({ arg, major }).toEqual({ arg, major: expect.stringMatching(/^(22|24)$/) });
  });

  test("package.json engines admit the image's Node line and nothing older than Node 22", () => {
    const { engines } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const major = Number(/^ARG NODE_IMAGE=node:(\d+)/m.exec(dockerfile)![1]);
    // Alternatives of the form ^X.Y.Z (that major line) or >=X.Y.Z (that major and later).
    const ranges = engines.node.split('||').map((alternative) => {
      const [, operator, from] = /^\s*(\^|>=)(\d+)\.\d+\.\d+\s*$/.exec(alternative) ?? [];
      return { alternative, operator, from: Number(from) };
    });
    for (const range of ranges) expect(range).toEqual({ alternative: range.alternative, operator: expect.stringMatching(/^(\^|>=)$/), from: expect.any(Number) });
    expect(Math.min(...ranges.map((r) => r.from))).toBeGreaterThanOrEqual(22);
    expect(ranges.some((r) => (r.operator === '^' ? r.from === major : r.from <= major))).toBe(true);
  });

  test('runs as a non-root user, exposes the default port, starts the CLI with "all"', () => {
    const user = one(finalStage, 'USER').split(':')[0];
    expect(['root', '0']).not.toContain(user);
    expect(one(finalStage, 'EXPOSE')).toBe(String(loadConfig(minimalEnv).port));
    expect(JSON.parse(one(finalStage, 'ENTRYPOINT'))).toEqual(['node', 'dist/main.js']);
    expect(JSON.parse(one(finalStage, 'CMD'))).toEqual(['all']);
  });

  test('bakes no secret into the image', () => {
    const settings = stages.flatMap((s) => [...all(s, 'ENV'), ...all(s, 'ARG')]).join(' ');
    expect(settings).not.toMatch(/TOKEN|SECRET|PASSWORD|_KEY/i);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['.env', '*.env', 'node_modules', '.git']));
  });

  describe('HEALTHCHECK command', () => {
    let status = 200;
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end();
    });
    let port = 0;
    beforeAll(async () => {
      port = await listen(server);
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    test('probes /healthz with node (no curl in the image)', () => {
      expect(healthcheckArgv[0]).toBe('node');
      expect(healthcheckArgv.join(' ')).toContain('/healthz');
    });

    test('exits 0 when /healthz answers 200 on PORT', async () => {
      status = 200;
      expect(await healthcheck(port)).toBe(0);
    });

    test('exits 1 when /healthz answers 503', async () => {
      status = 503;
      expect(await healthcheck(port)).toBe(1);
    });

    test('exits 1 when nothing listens', async () => {
      expect(await healthcheck(await freePort())).toBe(1);
    });
  });

  describe("the final stage's steps, in a clean directory", () => {
    let image = '';
    beforeAll(async () => {
      image = mkdtempSync(join(tmpdir(), 'scim-bridge-image-'));
      for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(image, file));
      await step('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], image);
      await step('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(image, 'dist')], ROOT);
    }, SLOW);
    afterAll(() => rmSync(image, { recursive: true, force: true }));

    test('installs the runtime dependencies and none of the development ones', () => {
      const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
      for (const name of Object.keys(manifest.dependencies)) expect({ name, installed: existsSync(join(image, 'node_modules', name)) }).toEqual({ name, installed: true });
      for (const name of Object.keys(manifest.devDependencies)) expect({ name, installed: existsSync(join(image, 'node_modules', name)) }).toEqual({ name, installed: false });
    });

    test('compiles the CLI entry point the ENTRYPOINT runs', () => {
      expect(existsSync(join(image, 'dist', 'config.js'))).toBe(true);
      expect(existsSync(join(image, 'dist', 'main.js'))).toBe(existsSync(join(ROOT, 'src', 'main.ts')));
    });

    const startsServe = async () => {
      const port = await freePort();
      const prefix = `test-${randomUUID()}`;
      const child: ChildProcess = spawn('node', ['dist/main.js', 'serve'], {
        cwd: image,
        env: { PATH: process.env.PATH, ...minimalEnv, PORT: String(port), HOST: '127.0.0.1', REDIS_URL, REDIS_PREFIX: prefix, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      try {
        const deadline = Date.now() + 30_000;
        let code = await healthcheck(port);
        while (code !== 0 && child.exitCode === null && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          code = await healthcheck(port);
        }
        expect({ healthcheck: code, stderr: code === 0 ? '' : stderr }).toEqual({ healthcheck: 0, stderr: '' });
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
        const redis = testRedis();
        await deleteTestKeys(redis, prefix);
        redis.disconnect();
      }
    };

    if (existsSync(join(ROOT, 'src', 'main.ts'))) {
      test('`node dist/main.js serve` starts there and passes the image HEALTHCHECK', startsServe, SLOW);
    } else {
      test.todo('`node dist/main.js serve` starts there and passes the image HEALTHCHECK (needs src/main.ts)');
    }
  });
});

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseDuration } from '../../src/config';
import { FIXED_SCIM_TOKEN, strongToken } from '../fixtures/tokens';

const minimal = { CODER_URL: 'http://127.0.0.1:3000/', CODER_SESSION_TOKEN: 'abcdefghij-abcdefghijklmnopqrstuv', SCIM_BEARER_TOKEN: FIXED_SCIM_TOKEN };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  test('applies the documented defaults', () => {
    const config = loadConfig(minimal);
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.redis).toMatchObject({ url: 'redis://127.0.0.1:6379', prefix: 'scim-bridge' });
    expect(config.coder.url).toBe('http://127.0.0.1:3000');
    expect(config.coder.loginType).toBe('oidc');
    expect(config.userDeletePolicy).toBe('suspend');
    expect(config.resyncIntervalMs).toBe(3_600_000);
    expect(config.workerConcurrency).toBe(4);
    expect(config.workerLockMs).toBe(10_000);
    expect(config.coder.rateLimitWindowMs).toBe(60_000);
    expect(config.adminToken).toBeUndefined();
  });

  test('ADOPT_GROUPS: empty by default, a comma-separated list, or * for all; never Everyone', () => {
    expect(loadConfig(minimal).adoptGroups).toEqual({ all: false, names: new Set() });
    expect(loadConfig({ ...minimal, ADOPT_GROUPS: 'platform, QA' }).adoptGroups).toEqual({ all: false, names: new Set(['platform', 'QA']) });
    expect(loadConfig({ ...minimal, ADOPT_GROUPS: '*' }).adoptGroups.all).toBe(true);
    expect(problemsOf({ ...minimal, ADOPT_GROUPS: 'QA, Everyone' })).toEqual([
      "ADOPT_GROUPS must not list Everyone: the organization's Everyone group is never adopted",
    ]);
  });

  test('names every missing required variable', () => {
    const problems = problemsOf({});
    expect(problems).toEqual(
      expect.arrayContaining(['CODER_URL is required', 'CODER_SESSION_TOKEN is required', 'SCIM_BEARER_TOKEN is required']),
    );
  });

  test('rejects bad values with the variable name', () => {
    expect(problemsOf({ ...minimal, PORT: 'eighty' })[0]).toMatch(/^PORT /);
    expect(problemsOf({ ...minimal, USER_DELETE_POLICY: 'purge' })[0]).toMatch(/^USER_DELETE_POLICY /);
    expect(problemsOf({ ...minimal, RESYNC_INTERVAL: 'hourly' })[0]).toMatch(/^RESYNC_INTERVAL must be a duration/);
    expect(problemsOf({ ...minimal, CODER_URL: 'ftp://x' })[0]).toMatch(/^CODER_URL /);
    expect(problemsOf({ ...minimal, WORKER_LOCK_DURATION: '500ms' })).toEqual(['WORKER_LOCK_DURATION must be at least 1s']);
    expect(problemsOf({ ...minimal, REDIS_CLUSTER_NODES: '127.0.0.1:7000' })[0]).toMatch(/^REDIS_PREFIX must be a \{hash-tag\}/);
  });

  test('splits several SCIM tokens for rotation', () => {
    const [a, b, c] = [strongToken('a'), strongToken('b'), strongToken('c')];
    expect(loadConfig({ ...minimal, SCIM_BEARER_TOKEN: `${a}, ${b}\n${c}` }).scim.tokens).toEqual([a, b, c]);
  });

  test('reads secrets from *_FILE and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'token');
    const fromFile = strongToken('from-file');
    writeFileSync(file, `${fromFile}\n`);
    const env = { ...minimal, SCIM_BEARER_TOKEN: undefined, SCIM_BEARER_TOKEN_FILE: file };
    expect(loadConfig(env).scim.tokens).toEqual([fromFile]);
    expect(problemsOf({ ...minimal, SCIM_BEARER_TOKEN_FILE: file })[0]).toMatch(/both set/);
    expect(problemsOf({ ...env, SCIM_BEARER_TOKEN_FILE: join(dir, 'missing') })[0]).toMatch(/^SCIM_BEARER_TOKEN_FILE: cannot read/);
  });

  test('never puts a secret value in a problem', () => {
    const problems = problemsOf({ ...minimal, ADMIN_TOKEN: 'short-secret', SCIM_BEARER_TOKEN: `${FIXED_SCIM_TOKEN},another-short-secret` });
    expect(problems).toHaveLength(2);
    expect(problems.join(' ')).not.toMatch(/short-secret/);
  });
});

describe('token rules', () => {
  const scim = strongToken('scim');
  const admin = strongToken('admin');

  test('accepts SCIM and admin tokens of 32+ random characters that differ', () => {
    const config = loadConfig({ ...minimal, SCIM_BEARER_TOKEN: scim, ADMIN_TOKEN: admin });
    expect(config.scim.tokens).toEqual([scim]);
    expect(config.adminToken).toBe(admin);
  });

  test('a short token: one line naming the variable (and which of several SCIM tokens)', () => {
    expect(problemsOf({ ...minimal, SCIM_BEARER_TOKEN: 'x' })).toEqual(['SCIM_BEARER_TOKEN must be at least 32 characters: generate one with `openssl rand -base64 48`']);
    expect(problemsOf({ ...minimal, SCIM_BEARER_TOKEN: `${scim},${'k'.repeat(5)}` })).toEqual([expect.stringMatching(/^SCIM_BEARER_TOKEN \(token 2 of 2\) must be at least 32 characters/)]);
    expect(problemsOf({ ...minimal, ADMIN_TOKEN: 'admin-token-0123456789abcdef' })).toEqual([expect.stringMatching(/^ADMIN_TOKEN must be at least 32 characters/)]);
  });

  test('the placeholders of the examples are refused, even when long enough', () => {
    expect(problemsOf({ ...minimal, SCIM_BEARER_TOKEN: 'replace-with-a-long-random-token' })).toEqual([expect.stringMatching(/^SCIM_BEARER_TOKEN is a placeholder/)]);
    expect(problemsOf({ ...minimal, ADMIN_TOKEN: 'replace-with-another-long-random-token' })).toEqual([expect.stringMatching(/^ADMIN_TOKEN is a placeholder/)]);
  });

  test('every placeholder value the repository shows (config/, docs/, README.md) is refused as a token', () => {
    const root = join(__dirname, '..', '..');
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)]));
    const text = [...files(join(root, 'config')), ...files(join(root, 'docs')), join(root, 'README.md')].map((file) => readFileSync(file, 'utf8')).join('\n');
    const placeholders = [...new Set(text.match(/replace-with-[\w-]+/g) ?? [])];
    expect(placeholders).toContain('replace-with-a-long-random-token');
    for (const placeholder of placeholders) {
      expect(problemsOf({ ...minimal, SCIM_BEARER_TOKEN: placeholder, ADMIN_TOKEN: placeholder })).toEqual([
        expect.stringMatching(/^SCIM_BEARER_TOKEN is a placeholder/),
        expect.stringMatching(/^ADMIN_TOKEN is a placeholder/),
      ]);
    }
  });

  test('a token of one repeated pattern, or with a space, is refused', () => {
    expect(problemsOf({ ...minimal, SCIM_BEARER_TOKEN: 'ab'.repeat(20) })).toEqual([expect.stringMatching(/^SCIM_BEARER_TOKEN is not random/)]);
    expect(problemsOf({ ...minimal, ADMIN_TOKEN: `${admin} ${admin}` })).toEqual([expect.stringMatching(/^ADMIN_TOKEN must not contain spaces/)]);
  });

  test('ADMIN_TOKEN equal to any SCIM token is refused', () => {
    const other = strongToken('next');
    expect(problemsOf({ ...minimal, SCIM_BEARER_TOKEN: `${scim}\n${other}`, ADMIN_TOKEN: other })).toEqual([
      'ADMIN_TOKEN must differ from every SCIM_BEARER_TOKEN token (the admin API would open to the IdP)',
    ]);
  });
});

test('PUBLIC_URL and MAX_CONNECTIONS', () => {
  expect(loadConfig(minimal)).toMatchObject({ publicUrl: undefined, maxConnections: 1024 });
  expect(loadConfig({ ...minimal, PUBLIC_URL: 'https://scim.example.com/' }).publicUrl).toBe('https://scim.example.com');
  expect(loadConfig({ ...minimal, PUBLIC_URL: 'https://example.com/bridge' }).publicUrl).toBe('https://example.com/bridge');
  expect(problemsOf({ ...minimal, PUBLIC_URL: 'scim.example.com' })[0]).toMatch(/^PUBLIC_URL must be an http\(s\) URL/);
  expect(problemsOf({ ...minimal, PUBLIC_URL: 'https://scim.example.com/?x=1' })[0]).toMatch(/^PUBLIC_URL must not hold a query/);
  expect(loadConfig({ ...minimal, MAX_CONNECTIONS: '50' }).maxConnections).toBe(50);
  expect(problemsOf({ ...minimal, MAX_CONNECTIONS: '0' })[0]).toMatch(/^MAX_CONNECTIONS /);
});

test('parseDuration', () => {
  expect(parseDuration('0')).toBe(0);
  expect(parseDuration('90s')).toBe(90_000);
  expect(parseDuration('15m')).toBe(900_000);
  expect(parseDuration('1h')).toBe(3_600_000);
  expect(parseDuration('250ms')).toBe(250);
  expect(parseDuration('soon')).toBeUndefined();
});

test('TRUST_PROXY takes a hop count or addresses/subnets, never true; REDIS_URL may come from a file', () => {
  expect(loadConfig(minimal).trustProxy).toBeUndefined();
  expect(loadConfig({ ...minimal, TRUST_PROXY: 'false' }).trustProxy).toBeUndefined();
  expect(loadConfig({ ...minimal, TRUST_PROXY: '2' }).trustProxy).toBe(2);
  expect(loadConfig({ ...minimal, TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
  expect(loadConfig({ ...minimal, TRUST_PROXY: '10.1.2.3,fd00::/8' }).trustProxy).toBe('10.1.2.3, fd00::/8');
  expect(problemsOf({ ...minimal, TRUST_PROXY: 'true' })).toEqual([expect.stringMatching(/^TRUST_PROXY=true would believe any client's X-Forwarded-For: give the number of proxies/)]);
  for (const everyone of ['0.0.0.0/0', '10.0.0.0/8, ::/0']) expect(problemsOf({ ...minimal, TRUST_PROXY: everyone })).toEqual([expect.stringMatching(/^TRUST_PROXY: .* trusts every address/)]);
  for (const bad of ['yes', '10.0.0.0/33', '10.0.0/8', 'loopback, proxy.internal']) expect(problemsOf({ ...minimal, TRUST_PROXY: bad })).toEqual([expect.stringMatching(/^TRUST_PROXY: /)]);
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(dir, 'redis-url'), 'redis://:pw@redis.internal:6380\n');
  expect(loadConfig({ ...minimal, REDIS_URL_FILE: join(dir, 'redis-url') }).redis.url).toBe('redis://:pw@redis.internal:6380');
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseDuration } from '../../src/config';

const minimal = { CODER_URL: 'http://127.0.0.1:3000/', CODER_SESSION_TOKEN: 'abcdefghij-abcdefghijklmnopqrstuv', SCIM_BEARER_TOKEN: 'tok1' };

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
    expect(problemsOf({ ...minimal, REDIS_CLUSTER_NODES: '127.0.0.1:7000' })[0]).toMatch(/^REDIS_PREFIX must be a \{hash-tag\}/);
  });

  test('splits several SCIM tokens for rotation', () => {
    expect(loadConfig({ ...minimal, SCIM_BEARER_TOKEN: 'a, b\nc' }).scim.tokens).toEqual(['a', 'b', 'c']);
  });

  test('reads secrets from *_FILE and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'from-file\n');
    const env = { ...minimal, SCIM_BEARER_TOKEN: undefined, SCIM_BEARER_TOKEN_FILE: file };
    expect(loadConfig(env).scim.tokens).toEqual(['from-file']);
    expect(problemsOf({ ...minimal, SCIM_BEARER_TOKEN_FILE: file })[0]).toMatch(/both set/);
    expect(problemsOf({ ...env, SCIM_BEARER_TOKEN_FILE: join(dir, 'missing') })[0]).toMatch(/^SCIM_BEARER_TOKEN_FILE: cannot read/);
  });

  test('never puts a secret value in a problem', () => {
    const problems = problemsOf({ ...minimal, ADMIN_TOKEN: 'short-secret' });
    expect(problems.join(' ')).not.toContain('short-secret');
  });
});

test('parseDuration', () => {
  expect(parseDuration('0')).toBe(0);
  expect(parseDuration('90s')).toBe(90_000);
  expect(parseDuration('15m')).toBe(900_000);
  expect(parseDuration('1h')).toBe(3_600_000);
  expect(parseDuration('250ms')).toBe(250);
  expect(parseDuration('soon')).toBeUndefined();
});

test('TRUST_PROXY takes Express forms; REDIS_URL may come from a file', () => {
  expect(loadConfig(minimal).trustProxy).toBeUndefined();
  expect(loadConfig({ ...minimal, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  expect(loadConfig({ ...minimal, TRUST_PROXY: '2' }).trustProxy).toBe(2);
  expect(loadConfig({ ...minimal, TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(dir, 'redis-url'), 'redis://:pw@redis.internal:6380\n');
  expect(loadConfig({ ...minimal, REDIS_URL_FILE: join(dir, 'redis-url') }).redis.url).toBe('redis://:pw@redis.internal:6380');
});

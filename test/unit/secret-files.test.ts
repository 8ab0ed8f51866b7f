import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/log';
import { watchSecretFiles } from '../../src/runtime/secret-files';
import { waitFor } from '../wait-for';

/** Token files re-read when they change: a rotated Kubernetes Secret applies without a restart. */

let dir: string;
let stop: (() => void) | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'secret-files-'));
});
afterEach(() => {
  stop?.();
  rmSync(dir, { recursive: true, force: true });
});


function watch(env: Record<string, string>, applied: Config[], lines: string[]): Config {
  const config = loadConfig({ CODER_URL: 'http://127.0.0.1:1', ...env });
  const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }));
  stop = watchSecretFiles({ initial: config, files: config.reloadableFiles ?? [], reload: config.reload!, apply: (next) => applied.push(next), logger, intervalMs: 20 });
  return config;
}

test('a rewritten token file is applied; an unusable one is reported and the tokens in use stay', async () => {
  const scim = join(dir, 'scim');
  const coder = join(dir, 'coder');
  writeFileSync(scim, 'first-scim-token-0123456789abcdef');
  writeFileSync(coder, 'first-coder-token');
  const applied: Config[] = [];
  const lines: string[] = [];
  const config = watch({ SCIM_BEARER_TOKEN_FILE: scim, CODER_SESSION_TOKEN_FILE: coder }, applied, lines);
  expect(config.reloadableFiles).toEqual([coder, scim]);

  writeFileSync(coder, 'second-coder-token\n');
  await waitFor(() => applied.length === 1, 5_000);
  expect(applied[0].coder.token).toBe('second-coder-token');
  expect(applied[0].scim.tokens).toEqual(['first-scim-token-0123456789abcdef']);

  writeFileSync(scim, '');
  await waitFor(() => lines.some((line) => line.includes('secrets_reload_failed')), 5_000);
  expect(applied).toHaveLength(1);
  expect(lines.join('')).not.toContain('second-coder-token');
});

test('a Kubernetes Secret update (the ..data symlink swapped) is picked up', async () => {
  // The kubelet's layout: token -> ..data/token, ..data -> ..<timestamp>; an update swaps ..data atomically.
  mkdirSync(join(dir, '..v1'));
  writeFileSync(join(dir, '..v1', 'token'), 'scim-token-before-rotation-000000');
  symlinkSync('..v1', join(dir, '..data'));
  symlinkSync(join('..data', 'token'), join(dir, 'token'));
  const applied: Config[] = [];
  watch({ SCIM_BEARER_TOKEN_FILE: join(dir, 'token'), CODER_SESSION_TOKEN: 'coder-token' }, applied, []);

  mkdirSync(join(dir, '..v2'));
  writeFileSync(join(dir, '..v2', 'token'), 'scim-token-after-rotation-1111111');
  symlinkSync('..v2', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  await waitFor(() => applied.length === 1, 5_000);
  expect(applied[0].scim.tokens).toEqual(['scim-token-after-rotation-1111111']);
});

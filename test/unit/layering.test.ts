import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The shape of src/: each part depends downward only, so a part can be read, tested and changed without the ones
 * above it. model/ is the shared vocabulary every part may use; log, metrics and config are the process-wide
 * services; the composition (bridge.ts, main.ts, cli/) and runtime/ wire the rest together.
 */
const SRC = resolve(__dirname, '../../src');
const SHARED = ['model', 'log', 'metrics', 'config'];
const MAY_IMPORT: Record<string, readonly string[]> = {
  model: [],
  log: ['model'],
  metrics: [],
  config: ['model', 'policy'],
  policy: ['model'],
  coder: SHARED,
  store: SHARED,
  scim: SHARED,
  reconcile: [...SHARED, 'coder', 'store', 'policy'],
  queue: [...SHARED, 'reconcile', 'store'],
  http: [...SHARED, 'scim', 'store', 'queue'],
  runtime: [...SHARED, 'coder', 'store', 'reconcile', 'queue', 'http', 'policy'],
  composition: ['*'],
};

const ROOT_FILES: Record<string, string> = {
  'log.ts': 'log',
  'log-errors.ts': 'log',
  'metrics.ts': 'metrics',
  'config.ts': 'config',
  'token-rules.ts': 'config',
  'trust-proxy-setting.ts': 'config',
  'bridge.ts': 'composition',
  'main.ts': 'composition',
};

/** The part a file of src/ belongs to: its folder, or for a file at the top, the role named above. */
function partOf(file: string): string | undefined {
  const [first, second] = relative(SRC, file).split('/');
  if (second === undefined) return ROOT_FILES[first];
  return first === 'cli' ? 'composition' : first;
}

interface Violation {
  file: string;
  imports: string;
  why: string;
}

/** The imports of one source file that go against the grain (relative ones only: packages are not layers). */
function violations(file: string, source: string): Violation[] {
  const from = partOf(file);
  const name = relative(SRC, file);
  if (from === undefined || !MAY_IMPORT[from]) return [{ file: name, imports: '', why: 'belongs to no part: give it one in layering.test.ts' }];
  const allowed = MAY_IMPORT[from];
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map(({ fileName }) => fileName)
    .filter((spec) => spec.startsWith('.'))
    .flatMap((spec) => {
      const target = resolve(dirname(file), spec);
      const to = relative(SRC, target).startsWith('..') ? 'outside src/' : partOf(target.endsWith('.ts') ? target : `${target}.ts`);
      if (to === from || allowed.includes('*') || (to !== undefined && allowed.includes(to))) return [];
      return [{ file: name, imports: spec, why: `${from} may not import ${to ?? 'an unknown part'}` }];
    });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the layering of src/', () => {
  test('every import of src/ goes downward', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((file) => violations(file, readFileSync(file, 'utf8')))).toEqual([]);
  });

  test.each([
    ['scim/user.ts', "import type { StoredResource } from '../store/types';", 'scim may not import store'],
    ['reconcile/mapping.ts', "import { parseUserInput } from '../scim/user';", 'reconcile may not import scim'],
    ['queue/worker.ts', "export { isRateLimited } from '../coder/errors';", 'queue may not import coder'],
    ['http/admin.ts', "const m = await import('../reconcile/resync');", 'http may not import reconcile'],
    ['store/keys.ts', "import { startBridge } from '../bridge';", 'store may not import composition'],
    ['model/resource.ts', "import type { Logger } from '../log';", 'model may not import log'],
    ['coder/client.ts', "import { x } from '../../test/helpers';", 'coder may not import outside src/'],
    ['widgets/x.ts', '', 'belongs to no part: give it one in layering.test.ts'],
  ])('%s with %s is refused', (file, source, why) => {
    expect(violations(join(SRC, file), source).map((v) => v.why)).toEqual([why]);
  });

  test.each([
    ['http/admin.ts', "import { ResyncQueue } from '../queue/resync-queue';"],
    ['reconcile/mapping.ts', "import { coderEmail } from '../model/email';"],
    ['cli/check.ts', "import { redactedUrl } from '../store/redis';"],
    ['scim/user.ts', "import { z } from 'zod';"],
  ])('%s with %s is allowed', (file, source) => {
    expect(violations(join(SRC, file), source)).toEqual([]);
  });
});

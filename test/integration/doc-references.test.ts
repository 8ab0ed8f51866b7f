import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { headingAnchors, linkTargets, tableRows } from '../markdown';

/**
 * The documentation cites what exists: every relative link reaches a file (and its anchor a heading there), and
 * every repository path written in the text (`src/...`, `test/...`) names a file or folder of the repository.
 */

const ROOT = join(__dirname, '..', '..');
const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  'config/kubernetes/sidecar/README.md',
  'test/coder-sim/README.md',
];

/** A path into one of the repository's top folders, not part of a URL or of a longer path. */
const REPOSITORY_PATH = /(?<![\w./-])(?:src|test|bench|config|scripts|docs|\.ci)\/[\w./-]*/g;

function read(doc: string): string {
  return readFileSync(join(ROOT, doc), 'utf8');
}

/** Files the operator writes (into a git-ignored `secrets/` folder) are named before they exist. */
function exists(path: string): boolean {
  return existsSync(join(ROOT, path)) || (basename(dirname(path)) === 'secrets' && existsSync(join(ROOT, dirname(path))));
}

describe.each(DOCS)('%s', (doc) => {
  const text = read(doc);

  test('cites only paths that exist in the repository', () => {
    const cited = [...new Set([...text.matchAll(REPOSITORY_PATH)].map((match) => match[0].replace(/\.+$/, '')))];
    expect(cited.filter((path) => !exists(path))).toEqual([]);
  });

  test('every relative link reaches a file, and its anchor a heading of that file', () => {
    const broken: string[] = [];
    for (const target of linkTargets(text)) {
      if (/^[a-z]+:/i.test(target)) continue;
      const [file, anchor] = target.split('#');
      const path = file === '' ? join(ROOT, doc) : resolve(ROOT, dirname(doc), file);
      if (!existsSync(path)) {
        broken.push(`${target}: no ${relative(ROOT, path)}`);
      } else if (anchor !== undefined && !headingAnchors(readFileSync(path, 'utf8')).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${relative(ROOT, path)}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('README.md', () => {
  const readme = read('README.md');

  test('its test table lists every folder of test/', () => {
    const listed = tableRows(readme, ['folder', 'what']).flatMap(([folders]) => [...folders.matchAll(/`test\/([^/`]+)\/`/g)].map((match) => match[1]));
    const folders = readdirSync(join(ROOT, 'test'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect([...listed].sort()).toEqual([...folders].sort());
  });

  test('names every benchmark script of package.json', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const benches = scripts.filter((name) => name.startsWith('bench:'));
    expect(benches.length).toBeGreaterThan(0);
    expect(benches.filter((name) => !readme.includes(`\`npm run ${name}\``))).toEqual([]);
  });
});

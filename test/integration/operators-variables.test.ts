import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config';
import { loadedConfig } from '../config-defaults';
import { strongToken } from '../fixtures/tokens';
import { tableRows } from '../markdown';

/**
 * docs/operators.md's variables tables name every variable config.ts reads, each once, and the default each row
 * shows is what the code does: a value the code applies when the variable is absent, `required`, or `unset`.
 */

const operators = readFileSync(join(__dirname, '..', '..', 'docs', 'operators.md'), 'utf8');
const rows = tableRows(operators, ['variable', 'default', 'meaning']).map(([variable, shownDefault]) => ({ variable, shownDefault }));
/** The required variables, as an operator fills them in. */
const minimal: NodeJS.ProcessEnv = { CODER_URL: 'https://coder.example.com', CODER_SESSION_TOKEN: strongToken('coder'), SCIM_BEARER_TOKEN: strongToken('scim') };

function nameOf(cell: string): string {
  return /^`([A-Z][A-Z0-9_]*)`$/.exec(cell)?.[1] ?? `(not one variable: ${cell})`;
}

describe('docs/operators.md configuration', () => {
  test('names exactly the variables config.ts reads, each in one row of its own', () => {
    const names = rows.map((row) => nameOf(row.variable));
    expect(names.length).toBe(new Set(names).size);
    expect([...names].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  test.each(rows.map((row) => [nameOf(row.variable), row.shownDefault] as const))('%s: the default shown, %s, is the code\'s', (name, shown) => {
    if (shown === 'required') {
      const { [name]: _required, ...without } = minimal;
      expect(_required).toBeDefined();
      expect(() => loadConfig(without)).toThrow(new RegExp(`^${name} is required`));
      return;
    }
    if (shown === 'unset') {
      // Absent from the minimal environment, which loads: nothing else is needed for it.
      expect(minimal[name]).toBeUndefined();
      expect(() => loadConfig(minimal)).not.toThrow();
      return;
    }
    const value = /^`([^`]*)`$/.exec(shown)?.[1];
    expect(value).toBeDefined();
    expect(loadedConfig({ ...minimal, [name]: value })).toEqual(loadedConfig(minimal));
  });
});

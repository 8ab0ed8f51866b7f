import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config';
import { loadedConfig } from '../config-defaults';
import { strongToken } from '../fixtures/tokens';

/** config/example.env documents every variable config.ts reads, and the defaults it shows are the code's. */

const ASSIGNMENT = /^(#?)([A-Z][A-Z0-9_]*)=(.*)$/;
const lines = readFileSync(join(__dirname, '..', '..', 'config', 'example.env'), 'utf8').split('\n');
const assignments = lines.flatMap((line) => {
  const match = ASSIGNMENT.exec(line);
  return match ? [{ commented: match[1] === '#', name: match[2], value: match[3] }] : [];
});
const active = Object.fromEntries(assignments.filter((a) => !a.commented).map((a) => [a.name, a.value]));
/** The active lines as an operator fills them in. */
const withToken = { ...active, SCIM_BEARER_TOKEN: strongToken('scim') };

describe('config/example.env', () => {
  test('names exactly the variables config.ts reads, each once', () => {
    const names = assignments.map((a) => a.name);
    expect(names.length).toBe(new Set(names).size);
    expect([...names].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  test('its active lines are the required variables; the SCIM token placeholder must be replaced before it loads', () => {
    expect(Object.keys(active).sort()).toEqual(['CODER_SESSION_TOKEN', 'CODER_URL', 'SCIM_BEARER_TOKEN']);
    expect(() => loadConfig(active)).toThrow(/^SCIM_BEARER_TOKEN is a placeholder/);
    expect(() => loadConfig(withToken)).not.toThrow();
  });

  // *_FILE lines show example paths, not defaults; empty ones mean "unset by default".
  const shownDefaults = assignments.filter((a) => a.commented && a.value !== '' && !a.name.endsWith('_FILE'));

  test.each(shownDefaults.map((a) => [a.name, a.value] as const))('%s=%s is the default the code applies', (name, value) => {
    expect(loadedConfig({ ...withToken, [name]: value })).toEqual(loadedConfig(withToken));
  });
});

import { readFileSync } from 'node:fs';
import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { core } from 'zod';
import { PolicyError } from './errors';
import { accessPolicySchema, type AccessPolicy } from './schema';

/**
 * Reads and validates an access-policy file. Every problem becomes one line naming its place:
 * `policy.yaml:14: rules[3].grants.siteRoles[0]: must be one of ...`, so an operator fixes all of them at once.
 */

/** A policy is a handful of rules; a file far larger than that is a mistake (or not a policy). */
const MAX_POLICY_BYTES = 1_048_576;

type Path = readonly PropertyKey[];

/** `rules[3].grants.siteRoles[0]` */
export function formatPath(path: Path): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** The 1-based line of the deepest node on `path` that exists (a missing key points at its parent). */
function lineOf(doc: Document, lines: LineCounter, path: Path, key?: string): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (!isNode(node)) continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((item) => isNode(item.key) && (item.key as { value?: unknown }).value === key);
      const keyRange = isNode(pair?.key) ? pair.key.range : undefined;
      if (keyRange) return lines.linePos(keyRange[0]).line;
    }
    if (node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function valueAt(value: unknown, path: Path): unknown {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

function describe(issue: core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return valueAt(input, issue.path) === undefined ? 'is required' : `must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${JSON.stringify(valueAt(input, issue.path))})`;
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'string' ? `must have at least ${issue.minimum} ${issue.origin === 'array' ? 'entries' : 'characters'}` : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'string' ? `must have at most ${issue.maximum} ${issue.origin === 'array' ? 'entries' : 'characters'}` : `must be at most ${issue.maximum}`;
    default:
      return issue.message;
  }
}

/** Validates policy text; `file` names it in every problem line. */
export function parsePolicy(text: string, file: string): AccessPolicy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const at = (line: number | undefined) => (line === undefined ? file : `${file}:${line}`);
  if (doc.errors.length > 0) {
    throw new PolicyError(file, doc.errors.map((e) => `${at(e.linePos?.[0].line)}: YAML: ${e.message.split('\n')[0]}`));
  }
  const input: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const parsed = accessPolicySchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems: string[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push(`${at(lineOf(doc, lines, issue.path, key))}: ${formatPath([...issue.path, key])}: unknown key (a typo?)`);
      }
      continue;
    }
    problems.push(`${at(lineOf(doc, lines, issue.path))}: ${formatPath(issue.path)}: ${describe(issue, input)}`);
  }
  throw new PolicyError(file, problems);
}

export function loadPolicyFile(file: string): AccessPolicy {
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_POLICY_BYTES) throw new PolicyError(file, [`${file}: larger than ${MAX_POLICY_BYTES} bytes`]);
    text = bytes.toString('utf8');
  } catch (err) {
    if (err instanceof PolicyError) throw err;
    throw new PolicyError(file, [`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  return parsePolicy(text, file);
}

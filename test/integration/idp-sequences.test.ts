import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startScimServer, type ScimReply, type ScimServer } from './scim-harness';

/**
 * Replays an IdP's provisioning sequence (test/fixtures/*-sequence.json) request by request against a real
 * server, checking each status and the response fields the IdP relies on. `{{name}}` in a path, header or
 * body is a value saved from an earlier response (`save`: name -> dotted path in the body); `{{base}}` is
 * the SCIM base URL.
 */

interface Expectation {
  status: number;
  /** A subset the body must contain (arrays must match element by element). */
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
  contentType?: string;
  /** Paths (segments separated by "/") that must be missing from the body. */
  absent?: string[];
  /** Attributes that must be missing or an empty list. */
  empty?: string[];
  /** The group's member ids, in any order. */
  memberValues?: string[];
}

interface Step {
  name: string;
  method: string;
  path: string;
  contentType?: string;
  body?: unknown;
  expect: Expectation;
  save?: Record<string, string>;
}

interface Sequence {
  description: string;
  steps: Step[];
}

function loadSequence(file: string): Sequence {
  return JSON.parse(readFileSync(path.resolve(__dirname, '../fixtures', file), 'utf8')) as Sequence;
}

function substitute<T>(value: T, variables: Map<string, string>): T {
  const text = JSON.stringify(value).replace(/\{\{(\w+)\}\}/g, (_whole, name: string) => {
    const saved = variables.get(name);
    if (saved === undefined) throw new Error(`fixture uses {{${name}}} before saving it`);
    return JSON.stringify(saved).slice(1, -1);
  });
  return JSON.parse(text) as T;
}

function at(body: unknown, segments: string[]): unknown {
  return segments.reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), body);
}

function check(step: Step, reply: ScimReply, expected: Expectation): void {
  const where = `step "${step.name}"`;
  expect({ where, status: reply.status }).toEqual({ where, status: expected.status });
  if (expected.body) expect(reply.body).toMatchObject(expected.body);
  for (const [header, value] of Object.entries(expected.headers ?? {})) expect({ where, [header]: reply.headers[header] }).toEqual({ where, [header]: value });
  if (expected.contentType) expect(reply.headers['content-type']).toBe(expected.contentType);
  for (const absent of expected.absent ?? []) expect({ where, absent, value: at(reply.body, absent.split('/')) }).toEqual({ where, absent, value: undefined });
  for (const attribute of expected.empty ?? []) expect({ where, attribute, value: reply.body[attribute] ?? [] }).toEqual({ where, attribute, value: [] });
  if (expected.memberValues) {
    const values = (reply.body.members ?? []).map((m: { value: string }) => m.value).sort();
    expect(values).toEqual([...expected.memberValues].sort());
  }
}

describe.each([['okta-sequence.json'], ['entra-sequence.json']])('%s', (file) => {
  let server: ScimServer;

  beforeAll(async () => {
    server = await startScimServer();
  });

  afterAll(async () => {
    await server.close();
  });

  it('replays every request with the expected answers', async () => {
    const sequence = loadSequence(file);
    const variables = new Map([['base', `${server.origin}/scim/v2`]]);
    for (const step of sequence.steps) {
      const request = substitute({ path: step.path, body: step.body }, variables);
      const reply = await server.call(step.method, `/scim/v2${request.path}`, {
        ...(request.body !== undefined && { raw: JSON.stringify(request.body) }),
        headers: { 'content-type': step.contentType ?? 'application/scim+json; charset=utf-8' },
      });
      for (const [name, bodyPath] of Object.entries(step.save ?? {})) {
        const value = at(reply.body, bodyPath.split('.'));
        if (typeof value === 'string') variables.set(name, value);
      }
      check(step, reply, substitute(step.expect, variables));
    }
  });
});

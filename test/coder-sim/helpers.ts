/** Test helpers: a thin undici client for the simulator. */
import { request } from 'undici';
import type { CoderSim } from './index';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface CallOpts {
  /** Token to send in Coder-Session-Token; null sends none. Default: the owner token. */
  token?: string | null;
  headers?: Record<string, string>;
  /** Raw body text instead of JSON. */
  raw?: string;
}

export async function api(sim: CoderSim, method: string, path: string, body?: unknown, o: CallOpts = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...o.headers };
  const token = o.token === undefined ? sim.token : o.token;
  if (token !== null) headers['Coder-Session-Token'] = token;
  let payload: string | undefined = o.raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await request(`${sim.url}/api/v2${path}`, {
    method: method as 'GET',
    headers,
    body: payload,
  });
  const raw = await res.body.text();
  let parsed: unknown = undefined;
  try {
    parsed = raw ? JSON.parse(raw) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, headers: res.headers, raw, body: parsed };
}

let seq = 0;
/** A unique, valid username with a prefix. */
export function uname(prefix: string): string {
  seq++;
  return `${prefix}-${seq}`;
}

export async function createUser(
  sim: CoderSim,
  username: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; username: string; email: string; status: string }> {
  const r = await api(sim, 'POST', '/users', {
    username,
    email: `${username}@example.com`,
    login_type: 'oidc',
    organization_ids: [sim.defaultOrgId],
    ...extra,
  });
  if (r.status !== 201) throw new Error(`createUser ${username}: ${r.status} ${r.raw}`);
  return r.body;
}

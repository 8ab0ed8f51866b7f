import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { spawnBridge } from '../test/e2e/bridge-process';
import { startE2E } from '../test/e2e/harness';
import { GROUP_SCHEMA } from '../src/scim/urns';

/**
 * `npm run bench:load`: Entra-like traffic at 25 requests/s per tenant for 4 tenants (each with its own
 * token and users), plus a background Okta import paging through /Users, against the bridge as its own
 * process, with its workers reconciling into the Coder simulator. Prints throughput, latency and errors.
 * LOAD_SECONDS (default 60), LOAD_TENANTS (4), LOAD_RATE (25 per tenant), LOAD_SEED_USERS (300 per tenant).
 */

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const TENANTS = Number(process.env.LOAD_TENANTS ?? 4);
const RATE = Number(process.env.LOAD_RATE ?? 25);
const SEED_USERS = Number(process.env.LOAD_SEED_USERS ?? 300);
const TARGET_P99_MS = 100;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface Tenant {
  token: string;
  tag: string;
  users: { id: string; userName: string }[];
  groupId: string;
}

class Stats {
  readonly latencies: number[] = [];
  errors = 0;
  readonly errorSamples: string[] = [];

  record(ms: number, ok: boolean, what: string): void {
    this.latencies.push(ms);
    if (!ok) {
      this.errors += 1;
      if (this.errorSamples.length < 5) this.errorSamples.push(what);
    }
  }

  line(name: string, seconds: number): string {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);
    const fmt = (ms: number) => ms.toFixed(1).padStart(7);
    return `${name.padEnd(18)} ${String(sorted.length).padStart(6)} req ${(sorted.length / seconds).toFixed(1).padStart(7)} req/s  p50 ${fmt(at(0.5))} ms  p99 ${fmt(at(0.99))} ms  max ${fmt(sorted.at(-1) ?? 0)} ms  errors ${this.errors}`;
  }
}

async function main(): Promise<void> {
  const tokens = Array.from({ length: TENANTS }, () => `tenant-${randomUUID()}`);
  const e2e = await startE2E({ env: { SCIM_BEARER_TOKEN: tokens.join(','), LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '8' }, launch: (env) => spawnBridge(env) });
  const pool = new Pool(e2e.bridge.origin ?? '', { connections: 64, pipelining: 1 });

  async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; ms: number }> {
    const started = performance.now();
    const reply = await pool.request({
      method: method as 'GET',
      path: `/scim/v2${path}`,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await reply.body.text();
    return { status: reply.statusCode, json: text ? JSON.parse(text) : undefined, ms: performance.now() - started };
  }

  const userBody = (userName: string, family: string) => ({
    schemas: [USER],
    userName,
    externalId: randomUUID(),
    active: true,
    displayName: `Load ${family}`,
    name: { givenName: 'Load', familyName: family },
    emails: [{ type: 'work', value: userName, primary: true }],
  });

  console.log(`seeding ${TENANTS} tenants x ${SEED_USERS} users...`);
  const tenants: Tenant[] = [];
  for (const [t, token] of tokens.entries()) {
    const tag = `t${t}`;
    const users: Tenant['users'] = [];
    for (let i = 0; i < SEED_USERS; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, SEED_USERS - i) }, (_, k) => call(token, 'POST', '/Users', userBody(`${tag}.seed${i + k}@example.com`, `Seed${i + k}`))),
      );
      for (const reply of batch) users.push({ id: reply.json.id, userName: reply.json.userName });
    }
    const group = await call(token, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: `Load ${tag}`, members: [] });
    tenants.push({ token, tag, users, groupId: group.json.id });
  }
  await e2e.waitForConvergence(120_000);
  e2e.sim.resetCalls();

  const entra = new Stats();
  const okta = new Stats();
  const deadline = Date.now() + SECONDS * 1000;
  let created = 0;

  /** One Entra-like request: mostly lookups and PATCHes, some creates, as Entra's incremental cycles send them. */
  function entraRequest(tenant: Tenant): Promise<{ status: number; ms: number; what: string }> {
    const roll = Math.random();
    const user = tenant.users[Math.floor(Math.random() * tenant.users.length)];
    const done = (what: string) => (reply: { status: number; ms: number }) => ({ ...reply, what });
    if (roll < 0.35) return call(tenant.token, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${user.userName}"`)}`).then(done('lookup'));
    if (roll < 0.45) return call(tenant.token, 'GET', `/Users/${user.id}`).then(done('get'));
    if (roll < 0.65)
      return call(tenant.token, 'PATCH', `/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'name.familyName', value: `F${Math.floor(roll * 1e6)}` }] }).then(done('patch user'));
    if (roll < 0.85) {
      const op = Math.random() < 0.6 ? 'Add' : 'Remove';
      // Entra's form for both: path "members" and a value list, "Add" or "Remove".
      const operation = { op, path: 'members', value: [{ value: user.id }] };
      return call(tenant.token, 'PATCH', `/Groups/${tenant.groupId}`, { schemas: [PATCH], Operations: [operation] }).then(done('patch group'));
    }
    const userName = `${tenant.tag}.new${created++}@example.com`;
    return call(tenant.token, 'POST', '/Users', userBody(userName, `New${created}`)).then((reply) => {
      if (reply.status === 201) tenant.users.push({ id: reply.json.id, userName });
      return { ...reply, what: 'create' };
    });
  }

  const inFlight: Promise<void>[] = [];
  const drivers = tenants.map(async (tenant) => {
    const interval = 1000 / RATE;
    let next = performance.now();
    while (Date.now() < deadline) {
      // Open loop: requests leave on schedule whether or not earlier ones have answered.
      inFlight.push(
        entraRequest(tenant).then(
          (reply) => entra.record(reply.ms, reply.status < 400, `${reply.what}: ${reply.status}`),
          (err: Error) => entra.record(0, false, err.message),
        ),
      );
      next += interval;
      await new Promise((done) => setTimeout(done, Math.max(0, next - performance.now())));
    }
  });
  const importer = (async () => {
    const tenant = tenants[0];
    let startIndex = 1;
    while (Date.now() < deadline) {
      try {
        const page = await call(tenant.token, 'GET', `/Users?startIndex=${startIndex}&count=100`);
        okta.record(page.ms, page.status === 200, `page: ${page.status}`);
        startIndex = page.json.Resources?.length === 100 ? startIndex + 100 : 1;
      } catch (err) {
        okta.record(0, false, (err as Error).message);
      }
    }
  })();
  const started = performance.now();
  await Promise.all([...drivers, importer]);
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;

  const convergeStarted = Date.now();
  await e2e.waitForConvergence(120_000);
  const calls = Object.values(e2e.sim.calls()).reduce((sum, n) => sum + n, 0);
  const p99 = [...entra.latencies].sort((a, b) => a - b)[Math.floor(0.99 * entra.latencies.length)] ?? 0;

  console.log(`\nload: ${TENANTS} tenants x ${RATE} req/s Entra-like for ${seconds.toFixed(1)} s, plus an Okta import paging /Users (count=100)`);
  console.log(entra.line('Entra traffic', seconds));
  console.log(okta.line('Okta import pages', seconds));
  for (const sample of [...entra.errorSamples, ...okta.errorSamples]) console.log(`  error: ${sample}`);
  console.log(`Coder caught up ${Date.now() - convergeStarted} ms after the load ended; ${calls} Coder calls during the run (${e2e.sim.writeCalls()} writes)`);
  const met = p99 < TARGET_P99_MS && entra.errors === 0 && okta.errors === 0;
  console.log(`target (Entra p99 < ${TARGET_P99_MS} ms, zero errors): ${met ? 'met' : 'NOT met'}`);

  await pool.close();
  await e2e.close();
  process.exitCode = met ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

import { Router } from 'express';
import { strongToken } from '../fixtures/tokens';
import { startScimServer, type ScimServer } from './scim-harness';

const ADMIN_TOKEN = strongToken('admin');

describe('bearer authentication', () => {
  let server: ScimServer;
  const [current, next] = [strongToken('scim-current'), strongToken('scim-next')];

  beforeAll(async () => {
    const admin = Router();
    admin.get('/status', (_req, res) => {
      res.json({ ok: true });
    });
    server = await startScimServer({ tokens: [current, next], adminToken: ADMIN_TOKEN, admin, authLimit: { maxFailures: 1000, windowMs: 60_000 } });
  });

  afterAll(async () => {
    await server.close();
  });

  it('refuses a request without a token: 401 SCIM Error with WWW-Authenticate: Bearer', async () => {
    const reply = await server.call('GET', '/scim/v2/Users', { token: null });
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(reply.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
    expect(typeof reply.body.detail).toBe('string');
  });

  it('refuses a wrong token, a token prefix and a non-Bearer scheme', async () => {
    expect((await server.call('GET', '/scim/v2/Users', { token: 'wrong' })).status).toBe(401);
    expect((await server.call('GET', '/scim/v2/Users', { token: current.slice(0, -1) })).status).toBe(401);
    const basic = await server.call('GET', '/scim/v2/Users', { token: null, headers: { authorization: `Basic ${current}` } });
    expect(basic.status).toBe(401);
  });

  it('accepts every configured token (rotation) and the scheme in any case', async () => {
    expect((await server.call('GET', '/scim/v2/Users', { token: current })).status).toBe(200);
    expect((await server.call('GET', '/scim/v2/Users', { token: next })).status).toBe(200);
    const lower = await server.call('GET', '/scim/v2/Users', { token: null, headers: { authorization: `bearer ${next}` } });
    expect(lower.status).toBe(200);
  });

  it('keeps SCIM and admin tokens apart', async () => {
    expect((await server.call('GET', '/admin/status', { token: current })).status).toBe(401);
    expect((await server.call('GET', '/scim/v2/Users', { token: ADMIN_TOKEN })).status).toBe(401);
    const admin = await server.call('GET', '/admin/status', { token: ADMIN_TOKEN });
    expect(admin.status).toBe(200);
    expect(admin.body).toEqual({ ok: true });
  });

  it('serves /healthz and /readyz without a token and without x-powered-by', async () => {
    const health = await server.call('GET', '/healthz', { token: null });
    expect(health.status).toBe(200);
    expect(health.headers['x-powered-by']).toBeUndefined();
    expect((await server.call('GET', '/readyz', { token: null })).status).toBe(200);
  });

  it('echoes a sane X-Request-Id and generates one otherwise', async () => {
    const echoed = await server.call('GET', '/healthz', { headers: { 'x-request-id': 'req-123' } });
    expect(echoed.headers['x-request-id']).toBe('req-123');
    const generated = await server.call('GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces!' } });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('without ADMIN_TOKEN', () => {
  it('has no /admin at all: 404 even with a valid SCIM token', async () => {
    const admin = Router();
    admin.get('/status', (_req, res) => {
      res.json({ ok: true });
    });
    const server = await startScimServer({ admin });
    try {
      expect((await server.call('GET', '/admin/status')).status).toBe(404);
      expect((await server.call('GET', '/admin/status', { token: null })).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('failed-authentication rate limit', () => {
  it('answers 429 with an integer Retry-After to an address past its failures, but never to a valid token', async () => {
    const server = await startScimServer({ authLimit: { maxFailures: 3, windowMs: 60_000 } });
    try {
      for (let i = 0; i < 3; i++) expect((await server.call('GET', '/scim/v2/Users', { token: `guess-${i}` })).status).toBe(401);
      const blocked = await server.call('GET', '/scim/v2/Users', { token: 'guess-4' });
      expect(blocked.status).toBe(429);
      expect(blocked.headers['retry-after']).toMatch(/^\d+$/);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect(blocked.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });
      expect(blocked.body.scimType).toBeUndefined();
      // The IdP behind the same address still gets in, and a request without a token is a plain 401.
      expect((await server.call('GET', '/scim/v2/Users')).status).toBe(200);
      expect((await server.call('GET', '/scim/v2/Users', { token: null })).status).toBe(401);
      expect((await server.call('GET', '/scim/v2/Users', { token: 'guess-5' })).status).toBe(429);
    } finally {
      await server.close();
    }
  });
});

describe('request logging', () => {
  it('logs one structured line per request, and never the token, the query or the body', async () => {
    const logLines: string[] = [];
    const server = await startScimServer({ logLines });
    try {
      const guess = 'guessed-token-7f3a9c';
      await server.call('GET', '/scim/v2/Users?filter=userName%20eq%20%22secret.person%40example.com%22', { token: guess });
      await server.call('POST', '/scim/v2/Users', { body: { userName: 'logged.person@example.com', password: 'body-secret-42' }, headers: { 'x-request-id': 'log-test-1' } });
      const events = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(events).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ event: 'auth_failed', scope: 'scim', reason: 'invalid' }),
          expect.objectContaining({ event: 'http_request', method: 'GET', route: '/scim/v2/*', status: 401 }),
          expect.objectContaining({ event: 'http_request', method: 'POST', route: '/scim/v2/Users', status: 201, requestId: 'log-test-1' }),
        ]),
      );
      expect(events.filter((e) => e.event === 'http_request')).toHaveLength(2);
      for (const secret of [guess, server.token, 'secret.person', 'body-secret-42', 'logged.person']) {
        expect(logLines.join('\n')).not.toContain(secret);
      }
    } finally {
      await server.close();
    }
  });
});

describe('/readyz', () => {
  it('names only the failing dependency, and reports a failing probe as unavailable', async () => {
    let outcome: () => Promise<{ ok: boolean; failing?: string }> = async () => ({ ok: false, failing: 'coder' });
    const server = await startScimServer({ readiness: () => outcome() });
    try {
      const failing = await server.call('GET', '/readyz', { token: null });
      expect(failing.status).toBe(503);
      expect(failing.body).toEqual({ status: 'unavailable', failing: 'coder' });
      outcome = async () => {
        throw new Error('probe exploded');
      };
      const thrown = await server.call('GET', '/readyz', { token: null });
      expect(thrown.status).toBe(503);
      expect(thrown.body).toEqual({ status: 'unavailable' });
      outcome = async () => ({ ok: true });
      expect((await server.call('GET', '/readyz', { token: null })).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

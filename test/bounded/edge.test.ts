import { Router } from 'express';
import { Redis } from 'ioredis';
import { strongToken } from '../fixtures/tokens';
import { startScimServer, userBody, type ScimReply, type ScimServer } from '../integration/scim-harness';

/**
 * What the HTTP layer itself answers: a malformed request is a SCIM 4xx (never a 500, never a stack trace in the
 * log), every response says nosniff, the Host header cannot steer Location, and an error log line holds no
 * stored document or Redis command argument.
 */

const ADMIN_TOKEN = strongToken('admin');
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

let server: ScimServer;
const logLines: string[] = [];
beforeAll(async () => {
  const admin = Router();
  admin.get('/resources/:type/:id', (req, res) => {
    res.json({ type: req.params.type, id: req.params.id });
  });
  server = await startScimServer({ adminToken: ADMIN_TOKEN, admin, metrics: true, logLines });
});
afterAll(() => server.close());

const events = () => logLines.map((line) => JSON.parse(line) as Record<string, unknown> & { level: number });

describe('malformed requests are SCIM 4xx, not 500', () => {
  test.each([
    ['GET', '/scim/v2/Users/%E0%A4%A'],
    ['PUT', '/scim/v2/Users/%E0%A4%A'],
    ['PATCH', '/scim/v2/Groups/%E0%A4%A'],
    ['DELETE', '/scim/v2/Groups/%ZZ'],
  ])('%s %s: 400 invalidSyntax', async (method, path) => {
    const reply = await server.call(method, path, method === 'GET' || method === 'DELETE' ? {} : { body: {} });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidSyntax', detail: 'The request path holds a malformed %-escape' });
  });

  test('the admin API answers a malformed %-escape with 400 too', async () => {
    const reply = await server.call('GET', '/admin/resources/Users/%E0%A4%A', { token: ADMIN_TOKEN });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '400' });
  });

  test('body-parser failures keep their 4xx', async () => {
    expect((await server.call('POST', '/scim/v2/Users', { raw: '{"userName": ' })).body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    const charset = await server.call('POST', '/scim/v2/Users', { raw: '{}', headers: { 'content-type': 'application/scim+json; charset=koi8-r' } });
    expect(charset.status).toBe(415);
  });

  test('none of them was logged as an error, and no stack trace was logged', () => {
    expect(events().filter((e) => e.level >= 50)).toEqual([]);
    expect(logLines.join('\n')).not.toContain('    at ');
  });
});

describe('X-Content-Type-Options: nosniff on every response', () => {
  const cases: [string, () => Promise<ScimReply>, number][] = [
    ['/healthz', () => server.call('GET', '/healthz', { token: null }), 200],
    ['/readyz', () => server.call('GET', '/readyz', { token: null }), 200],
    ['/metrics', () => server.call('GET', '/metrics', { token: ADMIN_TOKEN }), 200],
    ['a SCIM list', () => server.call('GET', '/scim/v2/Users'), 200],
    ['a create', () => server.call('POST', '/scim/v2/Users', { body: userBody(`nosniff-${Date.now()}@example.com`) }), 201],
    ['a 400', () => server.call('GET', '/scim/v2/Users?count=ten'), 400],
    ['a 401', () => server.call('GET', '/scim/v2/Users', { token: null }), 401],
    ['a 404 outside every router', () => server.call('GET', '/nowhere', { token: null }), 404],
  ];
  test.each(cases)('%s', async (_label, call, status) => {
    const reply = await call();
    expect(reply.status).toBe(status);
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('the Host header does not steer URLs (no TRUST_PROXY, no PUBLIC_URL)', () => {
  const evil = { host: 'evil.example' };
  test('Location, meta.location and discovery locations name the address the request reached', async () => {
    const created = await server.call('POST', '/scim/v2/Users', { body: userBody(`host-${Date.now()}@example.com`), headers: evil });
    expect(created.status).toBe(201);
    const locations = [created.headers.location, created.body.meta.location];
    const listed = await server.call('GET', '/scim/v2/Users', { headers: evil });
    locations.push(...listed.body.Resources.map((r: { meta: { location: string } }) => r.meta.location));
    locations.push((await server.call('GET', '/scim/v2/ServiceProviderConfig', { headers: evil })).body.meta.location);
    const types = await server.call('GET', '/scim/v2/ResourceTypes', { headers: evil });
    locations.push(...(types.body.Resources ?? types.body).map((r: { meta: { location: string } }) => r.meta.location));
    expect(locations.length).toBeGreaterThan(4);
    for (const location of locations) expect(location).toMatch(new RegExp(`^${server.origin}/scim/v2/`));
  });
});

describe('error logs', () => {
  test("a Redis failure is a 500 whose log line holds neither the stored document nor ioredis' command arguments", async () => {
    const redis = new Redis(server.config.redis.url);
    const userName = `personal.data.${Date.now()}@example.com`;
    try {
      // Break the Users index (a string where a sorted set belongs): the create script fails inside Redis.
      await redis.set(`${server.config.redis.prefix}:users`, 'not-a-sorted-set');
      const reply = await server.call('POST', '/scim/v2/Users', { body: userBody(userName, { name: { givenName: 'Secret', familyName: 'Surname' } }) });
      expect(reply.status).toBe(500);
      expect(reply.body).toEqual({ schemas: [ERROR_SCHEMA], status: '500', detail: 'Internal server error' });
      const failed = events().filter((e) => e.event === 'request_failed');
      expect(failed).toHaveLength(1);
      expect(failed[0].err).toMatchObject({ type: 'ReplyError', message: expect.stringContaining('WRONGTYPE') });
      const log = logLines.join('\n');
      for (const personal of ['personal.data', 'Secret', 'Surname', '"args"', '"command"']) expect(log).not.toContain(personal);
    } finally {
      await redis.del(`${server.config.redis.prefix}:users`);
      redis.disconnect();
    }
  });
});

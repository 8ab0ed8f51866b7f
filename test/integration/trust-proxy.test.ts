import { startScimServer, userBody, type ScimServer } from './scim-harness';

/** Behind an ingress every request comes from the proxy's address: TRUST_PROXY decides whom to believe. */

describe('with TRUST_PROXY', () => {
  let server: ScimServer;
  beforeAll(async () => {
    server = await startScimServer({ env: { TRUST_PROXY: 'loopback' }, authLimit: { maxFailures: 3, windowMs: 60_000 } });
  });
  afterAll(() => server.close());

  test('Location and meta.location use the forwarded scheme and host', async () => {
    const reply = await server.call('POST', '/scim/v2/Users', {
      body: userBody('proxied@example.com'),
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'scim.example.com' },
    });
    expect(reply.status).toBe(201);
    expect(reply.headers.location).toBe(`https://scim.example.com/scim/v2/Users/${reply.body.id}`);
    expect(reply.body.meta.location).toBe(reply.headers.location);
  });

  test('failed authentication is limited per forwarded client, and the IdP gets in even from the same address', async () => {
    const attacker = { 'x-forwarded-for': '203.0.113.7' };
    for (let i = 0; i < 3; i++) expect((await server.call('GET', '/scim/v2/Users', { token: 'wrong', headers: attacker })).status).toBe(401);
    expect((await server.call('GET', '/scim/v2/Users', { token: 'wrong', headers: attacker })).status).toBe(429);
    expect((await server.call('GET', '/scim/v2/Users', { token: 'wrong', headers: { 'x-forwarded-for': '198.51.100.20' } })).status).toBe(401);
    expect((await server.call('GET', '/scim/v2/Users', { headers: { 'x-forwarded-for': '198.51.100.20' } })).status).toBe(200);
    expect((await server.call('GET', '/scim/v2/Users', { headers: attacker })).status).toBe(200);
  });

  test('a Host the proxy forwarded is used when it sent no X-Forwarded-Host; a malformed one is not', async () => {
    const forwarded = await server.call('POST', '/scim/v2/Users', { body: userBody('host@example.com'), headers: { host: 'scim.example.org' } });
    expect(forwarded.headers.location).toBe(`http://scim.example.org/scim/v2/Users/${forwarded.body.id}`);
    const malformed = await server.call('GET', `/scim/v2/Users/${forwarded.body.id}`, { headers: { 'x-forwarded-host': 'evil.example/x?' } });
    expect(malformed.body.meta.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scim\/v2\/Users\//);
  });
});

test('without TRUST_PROXY, forwarded headers and the Host header are ignored', async () => {
  const server = await startScimServer({ authLimit: { maxFailures: 2, windowMs: 60_000 } });
  try {
    const reply = await server.call('POST', '/scim/v2/Users', { body: userBody('direct@example.com'), headers: { 'x-forwarded-host': 'evil.example.com', host: 'evil.example' } });
    expect(reply.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scim\/v2\/Users\//);
    expect(reply.body.meta.location).toBe(reply.headers.location);
    for (const client of ['203.0.113.7', '198.51.100.20']) {
      expect((await server.call('GET', '/scim/v2/Users', { token: 'wrong', headers: { 'x-forwarded-for': client } })).status).toBe(401);
    }
    // Both "clients" were the same socket address, so the limit is shared.
    expect((await server.call('GET', '/scim/v2/Users', { token: 'wrong', headers: { 'x-forwarded-for': '192.0.2.1' } })).status).toBe(429);
  } finally {
    await server.close();
  }
});

test('PUBLIC_URL fixes the origin, whatever Host or X-Forwarded-Host say', async () => {
  const server = await startScimServer({ env: { PUBLIC_URL: 'https://idp-facing.example.com/bridge/', TRUST_PROXY: 'loopback' } });
  try {
    const reply = await server.call('POST', '/scim/v2/Users', {
      body: userBody('public@example.com'),
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
    });
    expect(reply.headers.location).toBe(`https://idp-facing.example.com/bridge/scim/v2/Users/${reply.body.id}`);
    expect(reply.body.meta.location).toBe(reply.headers.location);
    const config = await server.call('GET', '/scim/v2/ServiceProviderConfig');
    expect(config.body.meta.location).toBe('https://idp-facing.example.com/bridge/scim/v2/ServiceProviderConfig');
  } finally {
    await server.close();
  }
});

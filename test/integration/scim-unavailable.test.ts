import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { startScimServer, userBody, type ScimServer } from './scim-harness';

/** A loopback port that nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

let server: ScimServer;

beforeAll(async () => {
  server = await startScimServer({ storeRedisUrl: `redis://127.0.0.1:${await closedPort()}` });
});

afterAll(async () => {
  await server.close();
});

describe('Redis unreachable', () => {
  it.each([
    ['GET', '/scim/v2/Users', undefined],
    ['GET', '/scim/v2/Users?filter=userName%20eq%20%22a%40b.c%22', undefined],
    ['GET', `/scim/v2/Groups/${randomUUID()}`, undefined],
    ['POST', '/scim/v2/Users', userBody('down@example.com')],
    ['DELETE', `/scim/v2/Users/${randomUUID()}`, undefined],
  ])('%s %s answers 503 with Retry-After: 5, quickly', async (method, path, body) => {
    const started = Date.now();
    const reply = await server.call(method, path, { body });
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('5');
    expect(reply.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('still rejects client errors with 4xx before touching Redis', async () => {
    const reply = await server.call('POST', '/scim/v2/Users', { raw: '{bad', headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(400);
  });
});

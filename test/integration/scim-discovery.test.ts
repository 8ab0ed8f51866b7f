import { startScimServer, type ScimServer } from './scim-harness';

let server: ScimServer;

beforeAll(async () => {
  server = await startScimServer({ env: { SCIM_MAX_PAGE_SIZE: '250' } });
});

afterAll(async () => {
  await server.close();
});

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('discovery endpoints', () => {
  it('describes the service provider, also under /serviceConfiguration, with the page cap as maxResults', async () => {
    for (const path of ['/scim/v2/ServiceProviderConfig', '/scim/v2/serviceConfiguration']) {
      const reply = await server.call('GET', path);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('application/scim+json; charset=utf-8');
      expect(reply.body).toMatchObject({ patch: { supported: true }, bulk: { supported: false }, filter: { supported: true, maxResults: 250 }, etag: { supported: true } });
    }
  });

  it('lists the resource types and serves each by name', async () => {
    const list = await server.call('GET', '/scim/v2/ResourceTypes');
    expect(list.body.totalResults).toBe(2);
    expect(list.body.Resources.map((r: { endpoint: string }) => r.endpoint).sort()).toEqual(['/Groups', '/Users']);
    const user = await server.call('GET', '/scim/v2/ResourceTypes/user');
    expect(user.body).toMatchObject({ name: 'User', schema: USER });
    expect((await server.call('GET', '/scim/v2/ResourceTypes/Device')).status).toBe(404);
  });

  it('lists every resource schema and serves each by URN', async () => {
    const list = await server.call('GET', '/scim/v2/Schemas');
    const ids = list.body.Resources.map((s: { id: string }) => s.id);
    expect(ids).toEqual(expect.arrayContaining([USER, GROUP, ENTERPRISE]));
    expect(list.body.totalResults).toBe(ids.length);
    const enterprise = await server.call('GET', `/scim/v2/Schemas/${ENTERPRISE}`);
    expect(enterprise.status).toBe(200);
    expect(enterprise.body.id).toBe(ENTERPRISE);
    expect((await server.call('GET', '/scim/v2/Schemas/urn:example:nothing')).status).toBe(404);
  });

  it('needs the SCIM token like every SCIM endpoint', async () => {
    expect((await server.call('GET', '/scim/v2/Schemas', { token: null })).status).toBe(401);
  });
});

import { startScimServer, userBody, type ScimServer } from './scim-harness';

let server: ScimServer;

beforeAll(async () => {
  server = await startScimServer({ env: { MAX_BODY_BYTES: '2048' } });
});

afterAll(async () => {
  await server.close();
});

describe('request bodies', () => {
  it('parses application/json, application/scim+json with charset, and any +json type', async () => {
    for (const [i, type] of ['application/json', 'application/scim+json; charset=utf-8', 'application/vnd.example+json'].entries()) {
      const reply = await server.call('POST', '/scim/v2/Users', { body: userBody(`type${i}@body.test`), headers: { 'content-type': type } });
      expect(reply.status).toBe(201);
    }
  });

  it('parses a body sent without Content-Type as JSON', async () => {
    const reply = await server.call('POST', '/scim/v2/Users', { raw: JSON.stringify(userBody('untyped@body.test')) });
    expect(reply.status).toBe(201);
  });

  it('refuses a body of another content type with 415', async () => {
    const reply = await server.call('POST', '/scim/v2/Users', { raw: 'userName=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(reply.status).toBe(415);
    expect(reply.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  });

  it('ignores a Content-Type on a GET without a body (Okta)', async () => {
    const reply = await server.call('GET', '/scim/v2/Users', { headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(200);
  });

  it('answers malformed JSON with 400 invalidSyntax', async () => {
    const reply = await server.call('POST', '/scim/v2/Users', { raw: '{ "acve": tre, ', headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
  });

  it('answers a JSON scalar body with 400, not 500', async () => {
    const reply = await server.call('POST', '/scim/v2/Users', { raw: '"just a string"', headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(400);
  });

  it('answers an oversize body with 413 SCIM Error', async () => {
    const reply = await server.call('POST', '/scim/v2/Users', { body: userBody('big@body.test', { displayName: 'x'.repeat(4096) }) });
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ status: '413', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
  });

  it('answers a PATCH whose body is not a PatchOp with 400', async () => {
    const created = await server.call('POST', '/scim/v2/Users', { body: userBody('patchbody@body.test') });
    const reply = await server.call('PATCH', `/scim/v2/Users/${created.body.id}`, { body: { Operations: 'nope' } });
    expect(reply.status).toBe(400);
  });

  it('answers an unknown SCIM endpoint with a 404 SCIM Error', async () => {
    const reply = await server.call('GET', '/scim/v2/Bulk');
    expect(reply.status).toBe(404);
    expect(reply.headers['content-type']).toBe('application/scim+json; charset=utf-8');
  });
});

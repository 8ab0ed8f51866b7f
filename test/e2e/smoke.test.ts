import { oktaUser, startE2E, type E2E } from './harness';
import { GROUP_SCHEMA } from '../../src/scim/urns';

let e2e: E2E;
beforeAll(async () => {
  e2e = await startE2E();
});
afterAll(() => e2e.close());

test('a SCIM user and group reach Coder', async () => {
  const user = await e2e.scim('POST', '/Users', oktaUser('smoke.user@example.com', 'Smoke', 'User'));
  expect(user.status).toBe(201);
  const group = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Smoke Team', members: [{ value: user.body.id }] });
  expect(group.status).toBe(201);
  await e2e.waitForConvergence(15_000);
  expect(e2e.actualInCoder()).toEqual({
    users: { 'smoke.user@example.com': { username: 'smoke-user', email: 'smoke.user@example.com', name: 'Smoke User', suspended: false } },
    groups: { 'Smoke-Team': { displayName: 'Smoke Team', members: ['smoke.user@example.com'] } },
  });
});

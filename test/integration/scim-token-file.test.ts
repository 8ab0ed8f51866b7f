import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startE2E, type E2E } from '../e2e/harness';

/** SCIM_BEARER_TOKEN_FILE rewritten while the bridge runs: the new token is accepted and the old one refused, without a restart. */

const BEFORE = 'scim-token-before-rotation-7f3a9c2e4b';
const AFTER = 'scim-token-after-rotation-1d8e6b0f5a';

let dir: string;
let e2e: E2E;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scim-token-file-'));
  const file = join(dir, 'scim-token');
  writeFileSync(file, BEFORE);
  e2e = await startE2E({ env: { SCIM_BEARER_TOKEN: '', SCIM_BEARER_TOKEN_FILE: file } });
});
afterAll(async () => {
  await e2e?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function status(token: string): Promise<number> {
  const reply = await request(`${e2e.bridge.origin}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
  await reply.body.dump();
  return reply.statusCode;
}

test('a rotated SCIM token file is picked up', async () => {
  expect(await status(BEFORE)).toBe(200);
  expect(await status(AFTER)).toBe(401);
  writeFileSync(join(dir, 'scim-token'), AFTER);
  const deadline = Date.now() + 15_000;
  while ((await status(AFTER)) !== 200) {
    if (Date.now() > deadline) throw new Error('the new token was not accepted within 15 s');
    // Not faster: each refused try counts against this address's failed-authentication limit.
    await new Promise((done) => setTimeout(done, 1_000));
  }
  expect(await status(BEFORE)).toBe(401);
}, 30_000);

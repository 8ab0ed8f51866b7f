import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startE2E, type E2E } from '../e2e/harness';

/** Native TLS (TLS_CERT_FILE, TLS_KEY_FILE) with a self-signed certificate made here with openssl. */

let dir: string;
let e2e: E2E;
let ca: Buffer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scim-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  ca = readFileSync(cert);
  e2e = await startE2E({ env: { TLS_CERT_FILE: cert, TLS_KEY_FILE: key } });
});
afterAll(async () => {
  await e2e?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the bridge serves SCIM over HTTPS with the configured certificate', async () => {
  expect(e2e.bridge.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const dispatcher = new Agent({ connect: { ca } });
  try {
    const reply = await request(`${e2e.bridge.origin}/scim/v2/ServiceProviderConfig`, { dispatcher, headers: { authorization: `Bearer ${e2e.scimToken}` } });
    expect(reply.statusCode).toBe(200);
    expect((await reply.body.json()) as object).toHaveProperty('filter.maxResults');
  } finally {
    await dispatcher.close();
  }
});

test('a client that does not trust the certificate is refused, and plain HTTP gets no SCIM answer', async () => {
  await expect(request(`${e2e.bridge.origin}/healthz`)).rejects.toThrow(/self.signed|certificate/i);
  const plain = (e2e.bridge.origin ?? '').replace('https:', 'http:');
  const answer = await request(`${plain}/scim/v2/Users`, { headers: { authorization: `Bearer ${e2e.scimToken}` } }).then(
    async (reply) => ({ status: reply.statusCode, text: await reply.body.text() }),
    () => undefined,
  );
  expect(answer?.text ?? '').not.toContain('ListResponse');
});

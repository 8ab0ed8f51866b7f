import { connect, type Socket } from 'node:net';
import { HEADERS_TIMEOUT_MS } from '../../src/http/server';
import { startScimServer, type ScimServer } from '../integration/scim-harness';

/**
 * Slow clients cannot hold the bridge's sockets: headers must be complete within HEADERS_TIMEOUT_MS however
 * they trickle in, a refused request (401, 413) closes its connection instead of reading the rest of its body,
 * and MAX_CONNECTIONS caps the sockets held at once (idle keep-alive ones make room for new clients).
 */

/** Node checks its timeouts every second (src/http/server.ts); the rest is slack for a loaded machine. */
const TIMEOUT_SLACK_MS = 4_000;
/** A refused request's socket closes this soon, while its client is still trickling. */
const CLOSED_WITHIN_MS = 3_000;

interface Exchange {
  socket: Socket;
  /** Everything the server sent. */
  received: () => string;
  /** Milliseconds from connecting to the server closing the socket. */
  closed: Promise<number>;
}

function open(port: number): Exchange {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    data += chunk;
  });
  // Writing to a socket the server closed fails with EPIPE/ECONNRESET: that is the point, not an error.
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
  return { socket, received: () => data, closed };
}

/** Writes `chunk` every `everyMs` until the socket closes. */
function trickle(exchange: Exchange, chunk: string, everyMs: number): void {
  const timer = setInterval(() => {
    if (exchange.socket.destroyed) clearInterval(timer);
    else exchange.socket.write(chunk);
  }, everyMs);
  void exchange.closed.then(() => clearInterval(timer));
}

function withDeadline(closed: Promise<number>, ms: number): Promise<number> {
  return Promise.race([closed, new Promise<number>((_resolve, reject) => setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms).unref())]);
}

describe('slow clients', () => {
  let server: ScimServer;
  let port: number;
  beforeAll(async () => {
    server = await startScimServer({ env: { MAX_BODY_BYTES: '65536' } });
    port = Number(new URL(server.origin).port);
  });
  afterAll(() => server.close());

  test(`headers trickled a line at a time are cut off after ${HEADERS_TIMEOUT_MS / 1000} s with a 408`, async () => {
    const exchange = open(port);
    exchange.socket.write('GET /scim/v2/Users HTTP/1.1\r\nHost: bridge\r\n');
    trickle(exchange, 'X-Slow: a\r\n', 500);
    const closedAfter = await withDeadline(exchange.closed, HEADERS_TIMEOUT_MS + TIMEOUT_SLACK_MS);
    expect(exchange.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfter).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 1_000);
  }, 30_000);

  test('a body trickled after a 401 is not read: the answer arrives and the connection closes', async () => {
    const exchange = open(port);
    exchange.socket.write('POST /scim/v2/Users HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/scim+json\r\nContent-Length: 60000\r\n\r\n{');
    trickle(exchange, ' ', 100);
    const closedAfter = await withDeadline(exchange.closed, CLOSED_WITHIN_MS);
    expect(exchange.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(exchange.received()).toMatch(/\r\nConnection: close\r\n/i);
    expect(exchange.received()).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/i);
    expect(closedAfter).toBeLessThan(CLOSED_WITHIN_MS);
  });

  test('a body declared larger than MAX_BODY_BYTES gets its 413 before a byte of it is read, and the connection closes', async () => {
    const exchange = open(port);
    const headers = `POST /scim/v2/Users HTTP/1.1\r\nHost: bridge\r\nAuthorization: Bearer ${server.token}\r\nContent-Type: application/scim+json\r\nContent-Length: 50000000\r\n\r\n`;
    exchange.socket.write(headers);
    trickle(exchange, 'x', 100);
    await withDeadline(exchange.closed, CLOSED_WITHIN_MS);
    expect(exchange.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(exchange.received()).toMatch(/\r\nConnection: close\r\n/i);
    expect(exchange.received()).toContain('"status":"413"');
  });
});

describe('MAX_CONNECTIONS', () => {
  const CAP = 4;
  let server: ScimServer;
  let port: number;
  beforeAll(async () => {
    server = await startScimServer({ env: { MAX_CONNECTIONS: String(CAP) } });
    port = Number(new URL(server.origin).port);
  });
  afterAll(() => server.close());

  /** One GET /healthz on a fresh connection: its status line, or undefined when the connection was refused. */
  async function healthz(): Promise<{ status?: string; exchange: Exchange }> {
    const exchange = open(port);
    exchange.socket.write('GET /healthz HTTP/1.1\r\nHost: bridge\r\n\r\n');
    const answered = new Promise<void>((resolve) => exchange.socket.on('data', () => resolve()));
    await withDeadline(Promise.race([answered.then(() => 0), exchange.closed]), 5_000);
    return { status: /^HTTP\/1\.1 (\d+)/.exec(exchange.received())?.[1], exchange };
  }

  test('caps open connections; idle keep-alive connections are closed to make room for a new client', async () => {
    const idle: Exchange[] = [];
    for (let i = 0; i < CAP; i++) {
      const { status, exchange } = await healthz();
      expect(status).toBe('200');
      idle.push(exchange);
    }
    // The cap is full of idle keep-alive connections: the next connection is refused, and the idle ones closed.
    const refused = await healthz();
    expect(refused.status).toBeUndefined();
    await Promise.all(idle.map((exchange) => withDeadline(exchange.closed, 3_000)));
    const admitted = await healthz();
    expect(admitted.status).toBe('200');
    admitted.exchange.socket.destroy();
    await admitted.exchange.closed;
  });

  test('while the cap is full of requests in progress, new connections are refused until headers time out', async () => {
    const slow = Array.from({ length: CAP }, () => {
      const exchange = open(port);
      exchange.socket.write('GET /healthz HTTP/1.1\r\n');
      return exchange;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await healthz()).status).toBeUndefined();
    await Promise.all(slow.map((exchange) => withDeadline(exchange.closed, HEADERS_TIMEOUT_MS + TIMEOUT_SLACK_MS)));
    expect(slow.map((exchange) => exchange.received().slice(0, 12))).toEqual(Array(CAP).fill('HTTP/1.1 408'));
    expect((await healthz()).status).toBe('200');
  }, 30_000);
});

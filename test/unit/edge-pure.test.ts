import { AuthFailureLog } from '../../src/http/auth-failure-log';
import { FailedAuthLimiter } from '../../src/http/auth-limiter';
import { clientKey } from '../../src/http/client-key';
import { toScimError } from '../../src/http/error-handler';
import { createLogger } from '../../src/log';
import { serializeError } from '../../src/log-errors';

describe('clientKey', () => {
  it('groups IPv6 addresses by /64 and unwraps IPv4-mapped ones', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey(undefined)).toBe('unknown');
    expect(clientKey('not an address')).toBe('unknown');
  });
});

describe('FailedAuthLimiter', () => {
  it('counts one IPv6 /64 as one client', () => {
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 60_000 });
    for (let i = 1; i <= 3; i++) limiter.recordFailure(`2001:db8:0:7::${i.toString(16)}`);
    expect(limiter.retryAfterSeconds('2001:db8:0:7:ffff::9')).toBe(60);
    expect(limiter.retryAfterSeconds('2001:db8:0:8::1')).toBe(0);
    expect(limiter.size).toBe(1);
  });

  it('holds at most its capacity of clients, dropping expired windows first, then the oldest', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter({ maxFailures: 1, windowMs: 1_000 }, () => now, 100);
    for (let i = 0; i < 100_000; i++) limiter.recordFailure(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(limiter.size).toBe(100);
    // The newest clients are still blocked, the oldest were evicted.
    expect(limiter.retryAfterSeconds('10.1.134.159')).toBeGreaterThan(0);
    expect(limiter.retryAfterSeconds('10.0.0.0')).toBe(0);
    now = 5_000;
    limiter.recordFailure('192.0.2.1');
    expect(limiter.size).toBe(1);
  });
});

describe('AuthFailureLog', () => {
  function capture(): { lines: Record<string, unknown>[]; log: AuthFailureLog } {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    return { lines, log: new AuthFailureLog(logger, 50) };
  }

  it('logs the first failure of a burst at once and the rest as one summary', async () => {
    const { lines, log } = capture();
    log.record({ scope: 'scim', reason: 'invalid', address: '203.0.113.7', requestId: 'r1' });
    for (let i = 0; i < 1_000; i++) log.record({ scope: i % 2 ? 'scim' : 'admin', reason: i % 3 ? 'invalid' : 'missing', address: `203.0.113.${i % 20}` });
    expect(lines).toEqual([expect.objectContaining({ event: 'auth_failed', scope: 'scim', reason: 'invalid', client: '203.0.113.7', requestId: 'r1' })]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ event: 'auth_failed_summary', failures: 1_000, clients: 20, byScope: { scim: 500, admin: 500 }, byReason: { missing: 334, invalid: 666 } });
    expect(Object.keys(lines[1].busiest as object)).toHaveLength(5);
    // A new burst starts with a line of its own.
    log.record({ scope: 'admin', reason: 'not_bearer', address: '198.51.100.1' });
    expect(lines[2]).toMatchObject({ event: 'auth_failed', scope: 'admin', reason: 'not_bearer' });
  });

  it('writes no summary for a single failure', async () => {
    const { lines, log } = capture();
    log.record({ scope: 'scim', reason: 'missing', address: '::1' });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(lines.map((l) => l.event)).toEqual(['auth_failed']);
  });
});

describe('toScimError for errors raised below the routes', () => {
  it('maps a 4xx from the router or http-errors to a SCIM 4xx with a fixed detail, never 500', () => {
    const badEscape = Object.assign(new URIError("Failed to decode param '%E0%A4%A'"), { status: 400, statusCode: 400 });
    expect(toScimError(badEscape)).toMatchObject({ status: 400, scimType: 'invalidSyntax', detail: 'The request path holds a malformed %-escape' });
    expect(toScimError(Object.assign(new Error('Precondition Required <script>'), { status: 428 }))).toMatchObject({ status: 428, detail: 'The request could not be processed as sent' });
    expect(toScimError(Object.assign(new Error('x'), { statusCode: 502 })).status).toBe(500);
  });
});

describe('serializeError', () => {
  it('keeps class, code, message and frames, and drops every other property (ioredis command arguments)', () => {
    const doc = '{"userName":"alice@example.com"}';
    const err = Object.assign(new Error('ERR Error running script'), { name: 'ReplyError', code: 'ERR', command: { name: 'evalsha', args: ['sha', '1', doc] } });
    const logged = serializeError(err) as Record<string, unknown>;
    expect(logged).toEqual({ type: 'ReplyError', code: 'ERR', message: 'ERR Error running script', stack: expect.stringMatching(/^ {4}at /) });
    expect(JSON.stringify(logged)).not.toContain('alice');
  });

  it("cuts the input JSON.parse quotes in its message, and serializes causes the same way", () => {
    let parseError: Error | undefined;
    try {
      JSON.parse('alice@example.com is not JSON');
    } catch (err) {
      parseError = err as Error;
    }
    const wrapped = new Error('could not read the stored user', { cause: parseError });
    const logged = JSON.stringify(serializeError(wrapped));
    expect(logged).not.toContain('alice');
    expect(logged).toContain('(input omitted) is not valid JSON');
    expect(serializeError({ userName: 'alice' })).toEqual({ type: 'object' });
  });
});

import { FailedAuthLimiter } from '../../src/http/auth-limiter';
import { TokenSet } from '../../src/http/auth';
import { toScimError } from '../../src/http/error-handler';
import { parseListQuery, splitAttributeList } from '../../src/http/list-query';
import { returnsAttribute } from '../../src/http/resource-views';
import { ScimError } from '../../src/scim/errors';
import { StoreError } from '../../src/store/types';

describe('FailedAuthLimiter', () => {
  it('blocks an address after its failures until the window ends, and only that address', () => {
    let now = 1_000_000;
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 2; i++) limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(60);
    expect(limiter.retryAfterSeconds('10.0.0.2')).toBe(0);
    now += 59_500;
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(1);
    now += 500;
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
  });
});

describe('TokenSet', () => {
  it('accepts each configured token exactly', () => {
    const tokens = new TokenSet(['alpha-token', 'beta-token']);
    expect(tokens.accepts('alpha-token')).toBe(true);
    expect(tokens.accepts('beta-token')).toBe(true);
    expect(tokens.accepts('alpha-toke')).toBe(false);
    expect(tokens.accepts('')).toBe(false);
  });
});

describe('toScimError', () => {
  it('keeps SCIM errors, maps store errors, body-parser errors, and anything else to 500', () => {
    const scim = new ScimError(400, 'bad', 'invalidValue');
    expect(toScimError(scim)).toBe(scim);
    expect(toScimError(new StoreError('not_found', 'x')).status).toBe(404);
    expect(toScimError(new StoreError('uniqueness', 'x'))).toMatchObject({ status: 409, scimType: 'uniqueness' });
    expect(toScimError(new StoreError('unavailable', 'x')).status).toBe(503);
    expect(toScimError(Object.assign(new Error('x'), { type: 'entity.parse.failed' }))).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(toScimError(Object.assign(new Error('x'), { type: 'entity.too.large' })).status).toBe(413);
    expect(toScimError(new TypeError('boom')).status).toBe(500);
  });
});

describe('list query parameters', () => {
  it('normalises startIndex and count, and caps count', () => {
    expect(parseListQuery({ startIndex: '0', count: '-5' }, 100)).toMatchObject({ startIndex: 1, count: 0 });
    expect(parseListQuery({ StartIndex: '11', COUNT: '5000' }, 100)).toMatchObject({ startIndex: 11, count: 100 });
    expect(parseListQuery({}, 100)).toMatchObject({ startIndex: 1, count: 100 });
    expect(() => parseListQuery({ count: 'ten' }, 100)).toThrow(ScimError);
  });

  it('splits attribute lists on commas outside value filters', () => {
    expect(splitAttributeList('userName, emails[type eq "a,b"],name.givenName')).toEqual(['userName', 'emails[type eq "a,b"]', 'name.givenName']);
  });

  it('tells whether a projection shows an attribute', () => {
    expect(returnsAttribute({}, 'members')).toBe(true);
    expect(returnsAttribute({ excludedAttributes: ['Members'] }, 'members')).toBe(false);
    expect(returnsAttribute({ attributes: ['displayName'] }, 'members')).toBe(false);
    expect(returnsAttribute({ attributes: ['members.value'] }, 'members')).toBe(true);
  });
});

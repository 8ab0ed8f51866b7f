/** The httprate sliding-window estimate, with an injected clock. */
import { RateLimiter } from './ratelimit';

test('previous window counts are weighted by the remaining part of the current window', () => {
  let now = Date.UTC(2025, 0, 1, 12, 0, 30); // 30 s into a window
  const rl = new RateLimiter(() => now);
  for (let i = 0; i < 10; i++) expect(rl.check('k', 10).limited).toBeUndefined();
  const limited = rl.check('k', 10);
  expect(limited.limited?.status).toBe(429);
  expect(limited.headers['X-RateLimit-Reset']).toBe(String(Date.UTC(2025, 0, 1, 12, 1, 0) / 1000));

  now = Date.UTC(2025, 0, 1, 12, 1, 15); // 15 s into the next window: rate = 10 * 45/60 = 7.5 → 8
  const first = rl.check('k', 10);
  expect(first.limited).toBeUndefined();
  expect(first.headers['X-RateLimit-Remaining']).toBe('1'); // 10 - 8 - 1
  expect(rl.check('k', 10).limited).toBeUndefined(); // round(7.5 + 1) = 9 → allowed, remaining 0
  expect(rl.check('k', 10).limited?.status).toBe(429);

  now = Date.UTC(2025, 0, 1, 12, 3, 0); // two windows later: history forgotten
  expect(rl.check('k', 10).headers['X-RateLimit-Remaining']).toBe('9');
});

test('a shorter window (for tests of a pacer) keeps the shape: a full budget at once, then what the decay frees', () => {
  let now = 10_000; // a window start for a 2-second window
  const rl = new RateLimiter(() => now, 2_000);
  for (let i = 0; i < 10; i++) expect(rl.check('k', 10).limited).toBeUndefined();
  expect(rl.check('k', 10).limited?.status).toBe(429);
  now = 12_000 + 1_000; // half-way through the next window: 10 * 1/2 = 5 from before, so 5 more fit
  for (let i = 0; i < 5; i++) expect(rl.check('k', 10).limited).toBeUndefined();
  expect(rl.check('k', 10).limited?.status).toBe(429);
  expect(rl.check('k', 10).headers['X-RateLimit-Reset']).toBe('14');
});

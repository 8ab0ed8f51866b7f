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

test('a shortened window keeps the algorithm; Retry-After, reset and message follow the window', () => {
  let now = Date.UTC(2025, 0, 1, 12, 0, 1); // 1 s into a 5 s window
  const rl = new RateLimiter(() => now, 5_000);
  for (let i = 0; i < 3; i++) expect(rl.check('k', 3).limited).toBeUndefined();
  const limited = rl.check('k', 3);
  expect(limited.limited?.status).toBe(429);
  expect(limited.limited?.body).toEqual({ message: "You've been rate limited for sending more than 3 requests in 5s." });
  expect(limited.headers['Retry-After']).toBe('5');
  expect(limited.headers['X-RateLimit-Reset']).toBe(String(Date.UTC(2025, 0, 1, 12, 0, 5) / 1000));

  now = Date.UTC(2025, 0, 1, 12, 0, 9); // 4 s into the next window: rate = 3 * 1/5 = 0.6 → 1
  expect(rl.check('k', 3).headers['X-RateLimit-Remaining']).toBe('1'); // 3 - 1 - 1
});

import { PathPacer } from '../../src/coder/pacer';

/** A fake clock: sleep advances time, so the schedule the pacer gives can be read off exactly. */
function fakeClock() {
  let now = 1_000_000;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Coder's limiter (go-chi/httprate): a sliding estimate over fixed one-minute windows. */
function slidingEstimates(sendTimes: number[]): number[] {
  const windowOf = (t: number) => Math.floor(t / 60_000);
  return sendTimes.map((t, i) => {
    const current = sendTimes.slice(0, i).filter((s) => windowOf(s) === windowOf(t)).length;
    const previous = sendTimes.filter((s) => windowOf(s) === windowOf(t) - 1).length;
    const elapsed = t - windowOf(t) * 60_000;
    return (previous * (60_000 - elapsed)) / 60_000 + current;
  });
}

test('a path is paced so that Coder\'s sliding estimate never reaches the limit, at over 90% of it', async () => {
  const clock = fakeClock();
  const pacer = new PathPacer({ limitPerMinute: 512, ...clock });
  const sent: number[] = [];
  const start = clock.now();
  for (let i = 0; i < 2_000; i++) {
    await pacer.acquire('/api/v2/users');
    sent.push(clock.now());
  }
  expect(Math.max(...slidingEstimates(sent)) + 1).toBeLessThanOrEqual(512);
  const perMinute = (sent.length - 1) / ((sent[sent.length - 1] - start) / 60_000);
  expect(perMinute).toBeGreaterThan(0.9 * 512);
  expect(perMinute).toBeLessThan(512);
});

test('a short burst goes out at once; paths are paced independently', async () => {
  const clock = fakeClock();
  const pacer = new PathPacer({ limitPerMinute: 512, ...clock });
  const start = clock.now();
  for (let i = 0; i < 20; i++) await pacer.acquire('/api/v2/users');
  expect(clock.now()).toBe(start);
  await pacer.acquire('/api/v2/users');
  expect(clock.now()).toBeGreaterThan(start);
  const before = clock.now();
  await pacer.acquire('/api/v2/groups/abc');
  expect(clock.now()).toBe(before);
});

test('concurrent callers get successive slots rather than the same one', async () => {
  const clock = fakeClock();
  const waits: number[] = [];
  const pacer = new PathPacer({ limitPerMinute: 60, now: clock.now, sleep: async (ms) => void waits.push(ms) });
  await Promise.all(Array.from({ length: 5 }, () => pacer.acquire('/p')));
  // 60/min: a burst of floor(60 * 0.04) = 2, then one slot every 60 / (60 * 0.93) s.
  const interval = 60_000 / (60 * 0.93);
  expect(waits).toEqual([interval, 2 * interval, 3 * interval].map((w) => expect.closeTo(w, 6)));
});

test('an idle path starts again with its burst', async () => {
  const clock = fakeClock();
  const pacer = new PathPacer({ limitPerMinute: 512, ...clock });
  for (let i = 0; i < 100; i++) await pacer.acquire('/p');
  clock.advance(120_000);
  const before = clock.now();
  for (let i = 0; i < 20; i++) await pacer.acquire('/p');
  expect(clock.now()).toBe(before);
});

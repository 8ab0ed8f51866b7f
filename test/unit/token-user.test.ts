import type { User } from '../../src/coder/types';
import { tokenUserIdOf } from '../../src/reconcile/adoption';

/** The token user's id is read once, reused for a minute, and a failed read is asked again. */

function fakeCoder(answers: (() => Promise<Pick<User, 'id'>>)[]) {
  let calls = 0;
  return {
    me: () => {
      const answer = answers[Math.min(calls, answers.length - 1)];
      calls += 1;
      return answer() as Promise<User>;
    },
    calls: () => calls,
  };
}

test('concurrent and later questions within a minute share one GET /users/me', async () => {
  let now = 0;
  const coder = fakeCoder([async () => ({ id: 'u-1' }), async () => ({ id: 'u-2' })]);
  const tokenUserId = tokenUserIdOf(coder, () => now);
  expect(await Promise.all([tokenUserId(), tokenUserId()])).toEqual(['u-1', 'u-1']);
  now = 59_999;
  expect(await tokenUserId()).toBe('u-1');
  expect(coder.calls()).toBe(1);
  // A token file re-read on change may belong to another user: after a minute the bridge asks again.
  now = 60_000;
  expect(await tokenUserId()).toBe('u-2');
  expect(coder.calls()).toBe(2);
});

test('a failed read is not remembered', async () => {
  const coder = fakeCoder([async () => Promise.reject(new Error('Coder is down')), async () => ({ id: 'u-1' })]);
  const tokenUserId = tokenUserIdOf(coder, () => 0);
  await expect(tokenUserId()).rejects.toThrow('Coder is down');
  expect(await tokenUserId()).toBe('u-1');
  expect(coder.calls()).toBe(2);
});

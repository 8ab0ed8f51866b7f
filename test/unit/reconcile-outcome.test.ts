import { CoderApiError, CoderNetworkError } from '../../src/coder/errors';
import { outcomeLabel, runReconcile } from '../../src/queue/reconcile-outcome';
import type { ReconcileResult } from '../../src/reconcile/reconcile-resource';
import { syncErrorOf } from '../../src/reconcile/errors';

/** The one contract between reconcilers and the queue: done, requeue-after (with a reason) or terminal. */

const site = { method: 'POST', route: 'POST /api/v2/users' };
const result = (outcome: ReconcileResult['outcome']): ReconcileResult => ({ outcome, version: 3, operations: ['createUser'] });
const failing = (err: unknown) => () => Promise.reject(err);

test('a result is done, and a permanently failed one is terminal with its reason', async () => {
  const applied = await runReconcile(() => Promise.resolve(result('applied')));
  expect(applied).toEqual({ type: 'done', result: result('applied') });
  expect(outcomeLabel(applied)).toBe('applied');

  const failed = { ...result('failed'), error: { code: 'unappliable', message: 'no e-mail', permanent: true, at: 1, version: 3 } };
  const terminal = await runReconcile(() => Promise.resolve(failed));
  expect(terminal).toEqual({ type: 'terminal', result: failed, reason: 'unappliable' });
  expect(outcomeLabel(terminal)).toBe('failed_permanent');
});

test('a 429 is requeued after Retry-After as rate_limited', async () => {
  const err = new CoderApiError({ ...site, status: 429, message: 'You have been rate limited.', retryAfterMs: 42_000 });
  const outcome = await runReconcile(failing(err));
  expect(outcome).toEqual({ type: 'requeue_after', reason: 'rate_limited', error: err, delayMs: 42_000 });
  expect(outcomeLabel(outcome)).toBe('rate_limited');
});

test.each([
  [401, 'You are signed out or your session has expired. Please sign in again to continue.'],
  [403, 'Forbidden.'],
  [403, 'You are not authorized to create users.'],
])('a %i "%s" is the bridge token failing: requeued as coder_auth, never a permanent failure', async (status, message) => {
  const err = new CoderApiError({ ...site, status, message });
  const outcome = await runReconcile(failing(err));
  expect(outcome).toMatchObject({ type: 'requeue_after', reason: 'coder_auth' });
  expect(syncErrorOf(err, 3, 1)).toMatchObject({ code: 'coder_auth', permanent: false, coderStatus: status });
});

test('a 403 about the request itself stays a permanent failure of that resource', async () => {
  const err = new CoderApiError({ method: 'DELETE', route: 'DELETE /api/v2/users/{user}', status: 403, message: 'You cannot delete yourself!' });
  expect(syncErrorOf(err, 3, 1)).toMatchObject({ code: 'coder_http', permanent: true });
  expect(await runReconcile(failing(err))).toMatchObject({ type: 'requeue_after', reason: 'retry' });
});

test('anything else thrown is requeued with the reconcile backoff; no answer at all (or a 502/503/504) is marked unreachable', async () => {
  const err = new CoderNetworkError({ method: 'GET', route: 'GET /api/v2/organizations' }, 'UND_ERR_SOCKET: other side closed', false);
  expect(await runReconcile(failing(err))).toEqual({ type: 'requeue_after', reason: 'retry', error: err, unreachable: true });
  const gateway = new CoderApiError({ status: 503, message: 'unavailable', method: 'GET', route: 'GET /api/v2/users' });
  expect(await runReconcile(failing(gateway))).toEqual({ type: 'requeue_after', reason: 'retry', error: gateway, unreachable: true });
  const internal = new CoderApiError({ status: 500, message: 'boom', method: 'GET', route: 'GET /api/v2/users' });
  expect(await runReconcile(failing(internal))).toEqual({ type: 'requeue_after', reason: 'retry', error: internal });
  const ours = new Error('redis gone');
  expect(await runReconcile(failing(ours))).toEqual({ type: 'requeue_after', reason: 'retry', error: ours });
});

test('error messages name the method once', () => {
  const network = new CoderNetworkError({ method: 'GET', route: 'GET /api/v2/organizations' }, 'UND_ERR_SOCKET: other side closed', false);
  expect(network.message).toBe('GET /api/v2/organizations: UND_ERR_SOCKET: other side closed');
  const api = new CoderApiError({ ...site, status: 500, message: 'Internal error creating user.' });
  expect(syncErrorOf(api, 1, 1).message).toBe('POST /api/v2/users: 500 Internal error creating user.');
});

import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { ScimError } from '../scim/errors';
import { applyUserPatch } from '../scim/user-patch';
import { parseUserInput, userIndexFields } from '../scim/user';
import { versionTag } from '../scim/render';
import { checkIfMatch, notModified } from './etag';
import { parseProjection } from './list-query';
import { sendResourceList } from './list-response';
import { routeLabel } from './request-log';
import { issuedIdParam } from './resource-id';
import type { ResourceViews } from './resource-views';
import { idParam, scimBaseUrl, type ScimContext } from './scim-context';
import { sendScimResource } from './scim-response';
import type { StoredResource } from '../model/resource';

function notFound(id: string): ScimError {
  return new ScimError(404, `User ${id} not found`);
}

/**
 * /Users. Each write lands in the store, then queues a reconcile of the user, then answers: a 2xx means the
 * change is durable and will reach Coder.
 */
export function usersRouter(ctx: ScimContext, views: ResourceViews): Router {
  const { store, producer } = ctx;
  const router = Router();
  router.param('id', issuedIdParam('User'));
  const counted = (operation: string) => ctx.metrics?.scimOperations.inc({ resource: 'User', operation });

  async function respond(req: Request, res: Response, status: number, stored: StoredResource): Promise<void> {
    sendScimResource(res, status, await views.user(stored, scimBaseUrl(res), parseProjection(req.query as Record<string, unknown>)));
  }

  router.get('/', routeLabel('/scim/v2/Users'), (req, res) => sendResourceList(ctx, views, 'User', req, res));
  router.post('/.search', routeLabel('/scim/v2/Users/.search'), (req, res) => sendResourceList(ctx, views, 'User', req, res));

  router.post('/', routeLabel('/scim/v2/Users'), async (req, res) => {
    const { doc, fields } = parseUserInput(req.body);
    const id = randomUUID();
    const stored = await store.createUser({ ...doc, id }, fields);
    await producer.enqueue('user', id);
    counted('create');
    res.location(`${scimBaseUrl(res)}/Users/${id}`);
    await respond(req, res, 201, stored);
  });

  router.get('/:id', routeLabel('/scim/v2/Users/:id'), async (req, res) => {
    const stored = await store.getUser(idParam(req));
    if (!stored) throw notFound(idParam(req));
    if (notModified(req, stored)) return void res.set('ETag', versionTag(stored.version)).status(304).end();
    await respond(req, res, 200, stored);
  });

  router.put('/:id', routeLabel('/scim/v2/Users/:id'), async (req, res) => {
    const id = idParam(req);
    const { doc, fields } = parseUserInput(req.body);
    const stored = await store.updateUser(id, (current) => {
      checkIfMatch(req, current);
      return { doc: { ...doc, id }, fields };
    });
    await producer.enqueue('user', id);
    counted('replace');
    await respond(req, res, 200, stored);
  });

  router.patch('/:id', routeLabel('/scim/v2/Users/:id'), async (req, res) => {
    const id = idParam(req);
    // The mutation may run again when another write wins the race: it recomputes from the latest document.
    const stored = await store.updateUser(id, (current) => {
      checkIfMatch(req, current);
      const doc = applyUserPatch(current.doc, req.body);
      return { doc: { ...doc, id }, fields: userIndexFields(doc) };
    });
    await producer.enqueue('user', id);
    counted('patch');
    await respond(req, res, 200, stored);
  });

  router.delete('/:id', routeLabel('/scim/v2/Users/:id'), async (req, res) => {
    const id = idParam(req);
    const { deleted, groupIds } = await store.deleteUser(id, (current) => checkIfMatch(req, current));
    if (!deleted) throw notFound(id);
    await producer.enqueue('user', id);
    for (const groupId of groupIds) await producer.enqueue('group', groupId);
    counted('delete');
    res.status(204).end();
  });

  return router;
}

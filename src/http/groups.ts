import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { ScimError } from '../scim/errors';
import { groupIndexFields, parseGroupInput } from '../scim/group';
import { planGroupPatch } from '../scim/group-patch';
import type { StoredResource } from '../model/resource';
import { versionTag } from '../scim/render';
import { checkIfMatch, notModified } from './etag';
import { parseProjection, type Projection } from './list-query';
import { sendResourceList } from './list-response';
import { routeLabel } from './request-log';
import { issuedIdParam } from './resource-id';
import type { ResourceViews } from './resource-views';
import { idParam, scimBaseUrl, type ScimContext } from './scim-context';
import { sendGroup } from './scim-stream';

function notFound(id: string): ScimError {
  return new ScimError(404, `Group ${id} not found`);
}

function projectionOf(req: Request): Projection {
  return parseProjection(req.query as Record<string, unknown>);
}

/**
 * /Groups. Memberships are changed as set operations in the store (never by loading and rewriting the member
 * list), and member ids that are not provisioned users are ignored, as Entra's and Microsoft's test traffic
 * needs. Each write is followed by a queued reconcile of the group before the answer.
 */
export function groupsRouter(ctx: ScimContext, views: ResourceViews): Router {
  const { store, producer, logger } = ctx;
  const router = Router();
  router.param('id', issuedIdParam('Group'));
  const counted = (operation: string) => ctx.metrics?.scimOperations.inc({ resource: 'Group', operation });

  function noteIgnored(groupId: string, ignored: string[], res: Response): void {
    if (ignored.length === 0) return;
    logger.info({ event: 'members_ignored', groupId, count: ignored.length, requestId: res.locals.requestId }, 'member ids that are not users were ignored');
  }

  async function reread(id: string): Promise<StoredResource> {
    const stored = await store.getGroup(id);
    if (!stored) throw notFound(id);
    return stored;
  }

  async function respond(req: Request, res: Response, status: number, stored: StoredResource): Promise<void> {
    await sendGroup(res, status, await views.groupParts(stored, scimBaseUrl(res), projectionOf(req)));
  }

  router.get('/', routeLabel('/scim/v2/Groups'), (req, res) => sendResourceList(ctx, views, 'Group', req, res));
  router.post('/.search', routeLabel('/scim/v2/Groups/.search'), (req, res) => sendResourceList(ctx, views, 'Group', req, res));

  router.post('/', routeLabel('/scim/v2/Groups'), async (req, res) => {
    const { doc, fields, memberIds, memberDisplays } = parseGroupInput(req.body);
    const id = randomUUID();
    const { ignored, ...stored } = await store.createGroup({ ...doc, id }, fields, memberIds, memberDisplays);
    noteIgnored(id, ignored, res);
    await producer.enqueue('group', id);
    counted('create');
    res.location(`${scimBaseUrl(res)}/Groups/${id}`);
    await respond(req, res, 201, stored);
  });

  router.get('/:id', routeLabel('/scim/v2/Groups/:id'), async (req, res) => {
    const stored = await reread(idParam(req));
    if (notModified(req, stored)) return void res.set('ETag', versionTag(stored.version)).status(304).end();
    await respond(req, res, 200, stored);
  });

  router.put('/:id', routeLabel('/scim/v2/Groups/:id'), async (req, res) => {
    const id = idParam(req);
    const { doc, fields, memberIds, memberDisplays } = parseGroupInput(req.body);
    await store.updateGroup(id, (current) => {
      checkIfMatch(req, current);
      return { doc: { ...doc, id }, fields };
    });
    noteIgnored(id, (await store.changeMembers(id, { replace: memberIds, displays: memberDisplays })).ignored, res);
    await producer.enqueue('group', id);
    counted('replace');
    await respond(req, res, 200, await reread(id));
  });

  /**
   * Attribute changes go through updateGroup (re-planned against the latest document if another write wins),
   * membership steps through changeMembers. Answers 204, as Entra recommends, or 200 with the group when the
   * client asks for attributes.
   */
  router.patch('/:id', routeLabel('/scim/v2/Groups/:id'), async (req, res) => {
    const id = idParam(req);
    // Planning against the current document first rejects a bad PATCH before anything is written.
    const before = await reread(id);
    // If-Match is checked here and again inside the attribute update's compare-and-set. Member steps apply to any
    // version (set operations commute), so a write landing between this read and them is not detected.
    checkIfMatch(req, before);
    const { doc: changed, membership } = planGroupPatch(before.doc, req.body);
    if (changed) {
      await store.updateGroup(id, (current) => {
        checkIfMatch(req, current);
        const doc = planGroupPatch(current.doc, req.body).doc ?? current.doc;
        return { doc: { ...doc, id }, fields: groupIndexFields(doc) };
      });
    }
    for (const change of membership) noteIgnored(id, (await store.changeMembers(id, change)).ignored, res);
    if (changed || membership.length > 0) {
      await producer.enqueue('group', id);
      counted('patch');
    }
    const projection = projectionOf(req);
    if (projection.attributes) await respond(req, res, 200, await reread(id));
    else res.status(204).end();
  });

  router.delete('/:id', routeLabel('/scim/v2/Groups/:id'), async (req, res) => {
    const id = idParam(req);
    if (!(await store.deleteGroup(id, (current) => checkIfMatch(req, current)))) throw notFound(id);
    await producer.enqueue('group', id);
    counted('delete');
    res.status(204).end();
  });

  return router;
}

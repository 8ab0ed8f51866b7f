import { Router } from 'express';
import { ScimError } from '../scim/errors';
import { discoveryRouter } from './discovery-routes';
import { groupsRouter } from './groups';
import { sendRootSearch } from './list-response';
import { publicOrigin } from './public-origin';
import { routeLabel } from './request-log';
import { ResourceViews } from './resource-views';
import { ScanGate } from './scan-gate';
import type { ScimContext } from './scim-context';
import { usersRouter } from './users';

/**
 * Everything under /scim/v2 once authenticated. Paths match case-insensitively and tolerate a trailing slash
 * (Express defaults, relied on: the Microsoft collection GETs `/users` and `/Users/?filter=`).
 *
 * Written by hand rather than with scimmy-routers (SCIMMY still supplies the schemas and discovery documents):
 * its handlers read a whole resource and write it back for every PATCH (a second of blocked event loop for a
 * one-member change to a 5,000-member group), turn store failures into 404s, and lose startIndex/count on
 * Express 5. Here a membership change is a set operation, a lookup is answered from an index, and a Redis
 * failure is a 503. bench/servers/scimmy-map.ts keeps a scimmy-routers server as the baseline it is measured by.
 */
export function scimRouter(deps: ScimContext): Router {
  const ctx: ScimContext = { ...deps, scans: deps.scans ?? new ScanGate() };
  const views = new ResourceViews(ctx.store);
  const router = Router();
  router.use((req, res, next) => {
    res.locals.scimBaseUrl = `${publicOrigin(req, ctx.config.publicUrl)}${req.baseUrl}`;
    next();
  });
  router.use('/Users', usersRouter(ctx, views));
  router.use('/Groups', groupsRouter(ctx, views));
  router.post('/.search', routeLabel('/scim/v2/.search'), (req, res) => sendRootSearch(ctx, views, req, res));
  router.use(discoveryRouter(ctx));
  router.use(routeLabel('/scim/v2/*'), (req, _res, next) => {
    next(new ScimError(404, `No SCIM endpoint ${req.method} ${req.path}`));
  });
  return router;
}

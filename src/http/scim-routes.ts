import { Router } from 'express';
import { ScimError } from '../scim/errors';
import { discoveryRouter } from './discovery-routes';
import { groupsRouter } from './groups';
import { sendRootSearch } from './list-response';
import { routeLabel } from './request-log';
import { ResourceViews } from './resource-views';
import type { ScimContext } from './scim-context';
import { usersRouter } from './users';

/**
 * Everything under /scim/v2 once authenticated. Paths match case-insensitively and tolerate a trailing slash
 * (Express defaults, relied on: the Microsoft collection GETs `/users` and `/Users/?filter=`).
 */
export function scimRouter(ctx: ScimContext): Router {
  const views = new ResourceViews(ctx.store);
  const router = Router();
  router.use((req, res, next) => {
    // req.host (with its port) honours X-Forwarded-Host when TRUST_PROXY says so; the Host header does not.
    res.locals.scimBaseUrl = `${req.protocol}://${req.host}${req.baseUrl}`;
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

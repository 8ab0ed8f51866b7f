import { Router, type Response } from 'express';
import { resourceTypes, schemas, serviceProviderConfig } from '../scim/discovery';
import { ScimError } from '../scim/errors';
import { routeLabel } from './request-log';
import { scimBaseUrl, type ScimContext } from './scim-context';
import { sendScim } from './scim-response';
import { LIST_RESPONSE_SCHEMA } from '../scim/urns';

type Document = Record<string, unknown>;

function sendDocuments(res: Response, documents: Document[]): void {
  sendScim(res, 200, {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: documents.length,
    startIndex: 1,
    itemsPerPage: documents.length,
    Resources: documents,
  });
}

function sendOne(res: Response, documents: Document[], key: string, wanted: string, what: string): void {
  const found = documents.find((doc) => String(doc[key]).toLowerCase() === wanted.toLowerCase());
  if (!found) throw new ScimError(404, `${what} "${wanted}" not found`);
  sendScim(res, 200, found);
}

/**
 * RFC 7644 §4 discovery. `/serviceConfiguration` is an alias that Microsoft's SCIM test collection requests
 * in place of `/ServiceProviderConfig`.
 */
export function discoveryRouter(ctx: ScimContext): Router {
  const router = Router();
  const limits = { maxResults: ctx.config.scim.maxPageSize, maxPayloadSize: ctx.config.scim.maxBodyBytes };

  router.get(['/ServiceProviderConfig', '/serviceConfiguration'], routeLabel('/scim/v2/ServiceProviderConfig'), (_req, res) => {
    sendScim(res, 200, serviceProviderConfig(scimBaseUrl(res), limits));
  });
  router.get('/ResourceTypes', routeLabel('/scim/v2/ResourceTypes'), (_req, res) => {
    sendDocuments(res, resourceTypes(scimBaseUrl(res)));
  });
  router.get('/ResourceTypes/:name', routeLabel('/scim/v2/ResourceTypes/:name'), (req, res) => {
    sendOne(res, resourceTypes(scimBaseUrl(res)), 'name', String(req.params.name), 'Resource type');
  });
  router.get('/Schemas', routeLabel('/scim/v2/Schemas'), (_req, res) => {
    sendDocuments(res, schemas());
  });
  router.get('/Schemas/:urn', routeLabel('/scim/v2/Schemas/:urn'), (req, res) => {
    sendOne(res, schemas(), 'id', String(req.params.urn), 'Schema');
  });
  return router;
}

import express from 'express';
import { seededUserName, userDocument } from '../workload';
import { serveBench } from './listen';

/**
 * The ceiling: bare Express answering every request with one fixed, pre-rendered ListResponse (a create gets the
 * fixed user). No SCIM server on Express can be faster than this on the same machine.
 */
const user = { ...userDocument(seededUserName(0)), id: '2819c223-7f76-453a-919d-413861904646', meta: { resourceType: 'User' } };
const listResponse = JSON.stringify({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
  totalResults: 1,
  startIndex: 1,
  itemsPerPage: 1,
  Resources: [user],
});
const created = JSON.stringify(user);

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ type: ['application/json', 'application/scim+json'] }));
app.post('/scim/v2/Users', (_req, res) => {
  res.status(201).type('application/scim+json').send(created);
});
app.use((_req, res) => {
  res.type('application/scim+json').send(listResponse);
});
serveBench(app);

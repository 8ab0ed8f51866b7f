import { randomUUID } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import { tellParent } from '../child';
import { SCIM_TOKEN } from '../workload';
import { serveBench } from './listen';

/**
 * The SCIMMY baseline: scimmy-routers on Express with users in a Map (plus a userName index, so a lookup is not
 * a scan): what a SCIM server costs with SCIMMY doing the protocol work and no storage cost at all.
 */
type UserRecord = Record<string, unknown> & { id: string; userName: string };

const users = new Map<string, UserRecord>();
const idByUserName = new Map<string, string>();

function store(data: Record<string, unknown>, id: string = randomUUID()): UserRecord {
  const now = new Date().toISOString();
  const record = { ...data, id, meta: { created: now, lastModified: now } } as unknown as UserRecord;
  users.set(id, record);
  idByUserName.set(record.userName.toLowerCase(), id);
  return record;
}

/** `userName eq "x"` as SCIMMY parses it: one expression with one attribute. */
function userNameEquality(filter: unknown): string | undefined {
  if (!Array.isArray(filter) || filter.length !== 1) return undefined;
  const expression = filter[0] as Record<string, unknown>;
  const keys = Object.keys(expression);
  const comparison = expression.userName;
  if (keys.length !== 1 || !Array.isArray(comparison) || comparison[0] !== 'eq') return undefined;
  return String(comparison[1]);
}

SCIMMY.Resources.declare(SCIMMY.Resources.User)
  .ingress((resource, data) => {
    if (resource.id) {
      if (!users.has(resource.id)) throw new SCIMMY.Types.Error(404, null!, `User ${resource.id} not found`);
      return store(data as unknown as Record<string, unknown>, resource.id);
    }
    return store(data as unknown as Record<string, unknown>);
  })
  .egress((resource) => {
    if (resource.id) {
      const user = users.get(resource.id);
      if (!user) throw new SCIMMY.Types.Error(404, null!, `User ${resource.id} not found`);
      return user;
    }
    const wanted = userNameEquality(resource.filter);
    if (wanted !== undefined) {
      const id = idByUserName.get(wanted.toLowerCase());
      return id ? [users.get(id)!] : [];
    }
    const all = [...users.values()];
    return resource.filter ? all.filter((user) => resource.filter!.match([user]).length > 0) : all;
  })
  .degress((resource) => {
    users.delete(resource.id!);
  });

/** Express 5 makes req.query a getter: scimmy-routers writes startIndex/count into it, so give it a plain copy. */
const writableQuery: RequestHandler = (req, _res, next) => {
  Object.defineProperty(req, 'query', { value: { ...req.query }, writable: true, configurable: true });
  next();
};

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(
  '/scim/v2',
  writableQuery,
  new SCIMMYRouters({
    type: 'bearer',
    handler: (request) => {
      if (request.header('Authorization') !== `Bearer ${SCIM_TOKEN}`) throw new Error('Not authorised');
      return 'bench';
    },
  }) as unknown as express.Router,
);

process.on('message', (message: { type?: string; users?: Record<string, unknown>[] }) => {
  if (message.type !== 'seed' || !message.users) return;
  const ids = message.users.map((user) => store(user).id);
  tellParent({ type: 'seeded', ids });
});
serveBench(app);

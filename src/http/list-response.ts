import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Request, Response } from 'express';
import { renderGroup, renderUser } from '../scim/render';
import { ScimError } from '../scim/errors';
import type { StoredResource } from '../model/resource';
import { parseListQuery, type ListQuery } from './list-query';
import { selectPage, type ResourceName, type ScanRunner, type Selection } from './listing';
import { SCAN_RETRY_AFTER_SECONDS, TooManyScans, tokenHolder } from './scan-gate';
import { returnsAttribute, type ResourceViews } from './resource-views';
import { sendGroupList } from './scim-stream';
import { PAGE_MEMBER_BUDGET } from '../scim/limits';
import { scimBaseUrl, type ScimContext } from './scim-context';
import { sendScim } from './scim-response';
import { LIST_RESPONSE_SCHEMA } from '../scim/urns';

/** GET takes list parameters from the query string; `.search` from its JSON body (RFC 7644 §3.4.3). */
export function listQueryOf(req: Request, ctx: ScimContext): ListQuery {
  const fromBody = req.method === 'POST';
  if (fromBody && (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body))) {
    throw new ScimError(400, 'A search request needs a JSON object body', 'invalidSyntax');
  }
  const source = (fromBody ? req.body : req.query) as Record<string, unknown>;
  return parseListQuery(source, ctx.config.scim.maxPageSize);
}

function matchable(resource: ResourceName, baseUrl: string): (stored: StoredResource) => Record<string, unknown> {
  return resource === 'User' ? (stored) => renderUser(stored, [], baseUrl) : (stored) => renderGroup(stored, undefined, baseUrl);
}

async function select(ctx: ScimContext, resource: ResourceName, query: ListQuery, req: Request, res: Response): Promise<Selection> {
  const { scans } = ctx;
  const holder = tokenHolder(req);
  const runScan: ScanRunner | undefined = scans && ((scan) => scans.run(holder, scan));
  try {
    return await selectPage(ctx.store, resource, query, matchable(resource, scimBaseUrl(res)), runScan);
  } catch (err) {
    if (err instanceof TooManyScans) res.set('Retry-After', String(SCAN_RETRY_AFTER_SECONDS));
    throw err;
  }
}

function render(views: ResourceViews, resource: ResourceName, stored: StoredResource, baseUrl: string, query: ListQuery) {
  return resource === 'User' ? views.user(stored, baseUrl, query.projection) : views.group(stored, baseUrl, query.projection);
}

/** Resources rendered between two turns of the event loop: a page of 1,000 is not one long block. */
const RENDER_TURN = 100;

async function renderInTurns<T>(items: T[], render: (item: T) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>[]> {
  const rendered: Record<string, unknown>[] = [];
  for (let at = 0; at < items.length; at += RENDER_TURN) {
    if (at > 0) await yieldToEventLoop();
    rendered.push(...(await Promise.all(items.slice(at, at + RENDER_TURN).map(render))));
  }
  return rendered;
}

function sendList(res: Response, query: ListQuery, total: number, resources: Record<string, unknown>[]): void {
  sendScim(res, 200, {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    startIndex: query.startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  });
}

/**
 * The first groups of a page whose members, together, stay within the budget (at least one group): what a
 * page of groups shows when members are returned.
 */
async function withinMemberBudget(ctx: ScimContext, groups: StoredResource[], query: ListQuery): Promise<StoredResource[]> {
  if (groups.length <= 1 || !returnsAttribute(query.projection, 'members')) return groups;
  const counts = await ctx.store.memberCounts(groups.map((group) => group.id));
  let members = 0;
  for (let i = 0; i < groups.length; i++) {
    members += counts[i];
    if (members > PAGE_MEMBER_BUDGET && i > 0) return groups.slice(0, i);
  }
  return groups;
}

/** `GET /Users`, `GET /Groups` and their `.search`. Groups are written as they are read (see scim-stream.ts). */
export async function sendResourceList(ctx: ScimContext, views: ResourceViews, resource: ResourceName, req: Request, res: Response): Promise<void> {
  const query = listQueryOf(req, ctx);
  const baseUrl = scimBaseUrl(res);
  const { total, resources } = await select(ctx, resource, query, req, res);
  if (resource === 'Group') {
    const groups = await withinMemberBudget(ctx, resources, query);
    const head = { totalResults: total, startIndex: query.startIndex, itemsPerPage: groups.length };
    await sendGroupList(res, head, groups.map((stored) => () => views.groupParts(stored, baseUrl, query.projection)));
    return;
  }
  sendList(res, query, total, await renderInTurns(resources, (stored) => render(views, resource, stored, baseUrl, query)));
}

const NOTHING: Selection = { total: 0, resources: [] };

/** A filter the resource type rejects (ScimError) selects nothing of that type; other failures (and a refused scan) propagate. */
async function selectOrRejection(ctx: ScimContext, resource: ResourceName, query: ListQuery, req: Request, res: Response): Promise<Selection | ScimError> {
  try {
    return await select(ctx, resource, query, req, res);
  } catch (err) {
    if (err instanceof TooManyScans) throw err;
    if (err instanceof ScimError) return err;
    throw err;
  }
}

/**
 * `POST /.search` spans every resource type: users first, then groups, paged as one list. A filter that names an
 * attribute only one type has selects nothing of the other; a filter neither type accepts is the client's error.
 */
export async function sendRootSearch(ctx: ScimContext, views: ResourceViews, req: Request, res: Response): Promise<void> {
  const query = listQueryOf(req, ctx);
  const baseUrl = scimBaseUrl(res);
  const userOutcome = await selectOrRejection(ctx, 'User', query, req, res);
  const users = userOutcome instanceof ScimError ? NOTHING : userOutcome;
  const groupQuery = { ...query, startIndex: Math.max(1, query.startIndex - users.total), count: query.count - users.resources.length };
  const groupOutcome = await selectOrRejection(ctx, 'Group', groupQuery, req, res);
  if (userOutcome instanceof ScimError && groupOutcome instanceof ScimError) throw userOutcome;
  const groups = groupOutcome instanceof ScimError ? NOTHING : groupOutcome;
  const shownGroups = await withinMemberBudget(ctx, groups.resources, query);
  const rendered = [
    ...(await renderInTurns(users.resources, (stored) => render(views, 'User', stored, baseUrl, query))),
    ...(await renderInTurns(shownGroups, (stored) => render(views, 'Group', stored, baseUrl, query))),
  ];
  sendList(res, query, users.total + groups.total, rendered);
}

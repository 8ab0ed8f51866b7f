/** Per-request context handed to route handlers, and shared parameter extractors (httpmw). */
import { ApiResult, err, forbidden, resourceNotFound } from './errors';
import { parseUuid, uuidError } from './ids';
import { GroupRec, OrgRec, State, UserRec } from './state';
import type { CoderSimOptions } from './types';

export type SimOptions = Required<Omit<CoderSimOptions, 'port'>>;

export interface Ctx {
  state: State;
  opts: SimOptions;
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: string;
  /** The authenticated user (set for routes that require auth). */
  actor?: UserRec;
  isOwner: boolean;
}

export type Handler = (ctx: Ctx) => ApiResult;

/** Result-or-value helper. */
export type Got<T> = { v: T; e?: undefined } | { v?: undefined; e: ApiResult };

/** Can the actor see this user? Owners see everyone; others see users sharing an organization. */
export function canSeeUser(ctx: Ctx, u: UserRec): boolean {
  if (ctx.isOwner || !ctx.actor) return true;
  if (u.id === ctx.actor.id) return true;
  for (const o of ctx.state.orgs.values()) if (o.members.has(u.id) && o.members.has(ctx.actor.id)) return true;
  return false;
}

/**
 * httpmw.ExtractUserParam: "me", UUID (GetUserByID: no deleted filter unless `excludeDeleted`), or username
 * (case-insensitive, non-deleted). Unknown → 400.
 */
export function userParam(ctx: Ctx, excludeDeleted = false): Got<UserRec> {
  const q = ctx.params.user ?? '';
  if (q === '') return { e: err(400, '"user" must be provided.') };
  let u: UserRec | undefined;
  if (q === 'me') {
    if (!ctx.actor) return { e: err(400, 'Cannot use "me" without a valid session.') };
    u = ctx.actor;
  } else {
    const id = parseUuid(q);
    u = id ? ctx.state.users.get(id) : ctx.state.findByUsername(q);
  }
  if (!u || (excludeDeleted && u.deleted) || !canSeeUser(ctx, u)) {
    return { e: err(400, '"user" must be an existing uuid or username.', `queried user="${q}"`) };
  }
  return { v: u };
}

/** httpmw.ExtractOrganizationParam: UUID, name or "default"; unknown → 404. */
export function orgParam(ctx: Ctx): Got<OrgRec> {
  const q = ctx.params.org ?? '';
  if (q === '') return { e: err(400, '"organization" must be provided.') };
  const org = ctx.state.findOrg(q);
  if (!org || (!ctx.isOwner && ctx.actor && !org.members.has(ctx.actor.id))) return { e: resourceNotFound() };
  return { v: org };
}

/** httpmw.ExtractGroupParam: UUID only. Returns the group (undefined for an org's Everyone group) and its org. */
export function groupParam(ctx: Ctx): Got<{ org: OrgRec; group?: GroupRec }> {
  const raw = ctx.params.group ?? '';
  if (raw === '') return { e: err(400, 'Missing UUID in URL.', '"group" URL param missing') };
  const id = parseUuid(raw);
  if (!id) return { e: err(400, `Invalid UUID "${raw}".`, uuidError(raw)) };
  const g = ctx.state.groups.get(id);
  const org = g ? ctx.state.orgs.get(g.organization_id) : ctx.state.orgs.get(id);
  if (!org || (!ctx.isOwner && ctx.actor && !org.members.has(ctx.actor.id))) return { e: resourceNotFound() };
  return { v: { org, group: g } };
}

/** Non-owners may read, not write (the simulator's simplified RBAC). */
export function requireOwner(ctx: Ctx): ApiResult | undefined {
  return ctx.isOwner ? undefined : forbidden();
}

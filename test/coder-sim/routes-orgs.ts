/** /api/v2/organizations routes and members (coderd/organizations.go, coderd/members.go). */
import { Ctx, orgParam, requireOwner, userParam } from './context';
import { ApiResult, err, noContent, ok, resourceNotFound } from './errors';
import { parsePagination } from './query';
import { orgJson, orgMemberJson, orgMemberWithUserJson } from './serialize';
import { OrgRec, UserRec } from './state';

/** GET /organizations */
export function listOrgs(ctx: Ctx): ApiResult {
  const out = [];
  for (const o of ctx.state.orgs.values()) {
    if (ctx.isOwner || (ctx.actor && o.members.has(ctx.actor.id))) out.push(orgJson(o));
  }
  return ok(out);
}

/** GET /organizations/{org} */
export function getOrg(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  return o.e ?? ok(orgJson(o.v));
}

/** POST /organizations/{org}/members/{user} */
export function addMember(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const u = userParam(ctx, true);
  if (u.e) return u.e;
  if (o.v.members.has(u.v.id)) return err(400, 'Organization member already exists in this organization');
  if (u.v.login_type === 'oidc' && ctx.state.idpSync.organization.field !== '') {
    return err(
      400,
      'Organization sync is enabled for OIDC users, meaning manual organization assignment is not allowed for this user. Have the user re-login to refresh their organizations.',
      `User ${u.v.username} is an OIDC user and organization sync is enabled. Ask an administrator to resolve the membership in your external IDP.`,
    );
  }
  const denied = requireOwner(ctx);
  if (denied) return denied;
  const m = ctx.state.addOrgMember(o.v.id, u.v.id);
  return ok(orgMemberJson(ctx.state, o.v.id, u.v.id, m));
}

/** DELETE /organizations/{org}/members/{user} — cascades out of the org's groups. */
export function removeMember(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const u = userParam(ctx, true);
  if (u.e) return u.e;
  if (!o.v.members.has(u.v.id)) return resourceNotFound();
  if (ctx.actor && u.v.id === ctx.actor.id) return err(400, 'cannot remove self from an organization');
  const denied = requireOwner(ctx);
  if (denied) return denied;
  ctx.state.removeOrgMember(o.v.id, u.v.id);
  return noContent();
}

function membersSorted(ctx: Ctx, org: OrgRec): Array<[UserRec, ReturnType<OrgRec['members']['get']>]> {
  const rows: Array<[UserRec, ReturnType<OrgRec['members']['get']>]> = [];
  for (const [id, m] of org.members) {
    const u = ctx.state.users.get(id);
    if (u && !u.deleted) rows.push([u, m]);
  }
  rows.sort((a, b) => {
    const x = a[0].username.toLowerCase();
    const y = b[0].username.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return rows;
}

/** GET /organizations/{org}/members (deprecated; all members) */
export function listMembers(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  return ok(membersSorted(ctx, o.v).map(([u, m]) => orgMemberWithUserJson(ctx.state, o.v.id, u, m!)));
}

/** GET /organizations/{org}/paginated-members?limit&offset */
export function listMembersPaginated(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const p = parsePagination(ctx.query);
  if (Array.isArray(p)) return err(400, 'Query parameters have invalid values.', undefined, p);
  const rows = membersSorted(ctx, o.v);
  const page = rows.slice(p.offset, p.limit > 0 ? p.offset + p.limit : undefined);
  return ok({ members: page.map(([u, m]) => orgMemberWithUserJson(ctx.state, o.v.id, u, m!)), count: rows.length });
}

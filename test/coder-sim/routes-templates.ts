/** Templates and template ACLs (coderd/templates.go, enterprise/coderd/templates.go). Templates are made with `direct.createTemplate`. */
import { Ctx, orgParam, requireOwner } from './context';
import { ApiResult, ValidationError, err, goTime, ok, resourceNotFound } from './errors';
import { parseUuid, uuidError } from './ids';
import { groupJson, userJson } from './serialize';
import { State, TemplateRec, TemplateRole } from './state';
import { decodeBody } from './validation';

function templateJson(s: State, t: TemplateRec) {
  const org = s.orgs.get(t.organization_id)!;
  return {
    id: t.id,
    created_at: goTime(t.created_at),
    updated_at: goTime(t.updated_at),
    organization_id: org.id,
    organization_name: org.name,
    organization_display_name: org.display_name,
    name: t.name,
    display_name: t.display_name,
    description: '',
    icon: '',
    deprecated: false,
  };
}

/** httpmw.ExtractTemplateParam: UUID only. */
function templateParam(ctx: Ctx): { v: TemplateRec; e?: undefined } | { v?: undefined; e: ApiResult } {
  const raw = ctx.params.template ?? '';
  const id = parseUuid(raw);
  if (!id) return { e: err(400, `Invalid UUID "${raw}".`, uuidError(raw)) };
  const t = ctx.state.templates.get(id);
  if (!t) return { e: resourceNotFound() };
  if (!ctx.isOwner && !(ctx.actor && ctx.state.orgs.get(t.organization_id)?.members.has(ctx.actor.id))) return { e: resourceNotFound() };
  return { v: t };
}

/** GET /organizations/{org}/templates — in creation order. */
export function listOrgTemplates(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  return ok([...ctx.state.templates.values()].filter((t) => t.organization_id === o.v.id).map((t) => templateJson(ctx.state, t)));
}

/** GET /templates/{template} */
export function getTemplate(ctx: Ctx): ApiResult {
  const t = templateParam(ctx);
  return t.e ?? ok(templateJson(ctx.state, t.v));
}

/** GET /templates/{template}/acl — `{users: [TemplateUser], group: [TemplateGroup]}` (sic: "group"). */
export function getTemplateAcl(ctx: Ctx): ApiResult {
  const t = templateParam(ctx);
  if (t.e) return t.e;
  const users = [];
  for (const [id, role] of t.v.userAcl) {
    const u = ctx.state.users.get(id);
    if (u && !u.deleted) users.push({ ...userJson(ctx.state, u), role });
  }
  const group = [];
  for (const [id, role] of t.v.groupAcl) {
    const g = ctx.state.groups.get(id);
    const org = ctx.state.orgs.get(g ? g.organization_id : id);
    if (org) group.push({ ...groupJson(ctx.state, org, g), role });
  }
  return ok({ users, group });
}

const ROLES = new Set(['use', 'admin', '']);

/** validateTemplateACLPerms: role first, then UUID, then existence (any group, Everyone = org id). */
function validatePerms(ctx: Ctx, perms: Record<string, string>, field: string, isUser: boolean): ValidationError[] {
  const out: ValidationError[] = [];
  for (const [k, v] of Object.entries(perms)) {
    if (!ROLES.has(v)) {
      out.push({ field, detail: `role "${v}" is not a valid Template role` });
      continue;
    }
    const id = parseUuid(k);
    if (!id) {
      out.push({ field, detail: `ID ${k}must be a valid UUID.` }); // sic: Coder's message has no space
      continue;
    }
    const exists = isUser ? ctx.state.users.has(id) : ctx.state.groups.has(id) || ctx.state.orgs.has(id);
    if (!exists) out.push({ field, detail: `Failed to find resource with ID "${k}": sql: no rows in result set` });
  }
  return out;
}

/** PATCH /templates/{template}/acl — merge: only listed ids change; "" removes an entry. */
export function patchTemplateAcl(ctx: Ctx): ApiResult {
  const t = templateParam(ctx);
  if (t.e) return t.e;
  const d = decodeBody(ctx.body, 'UpdateTemplateACL', [
    { json: 'user_perms', type: 'string-map' },
    { json: 'group_perms', type: 'string-map' },
  ]);
  if ('error' in d) return d.error;
  const userPerms = (d.value.user_perms as Record<string, string>) ?? {};
  const groupPerms = (d.value.group_perms as Record<string, string>) ?? {};
  const invalid = [...validatePerms(ctx, userPerms, 'user_perms', true), ...validatePerms(ctx, groupPerms, 'group_perms', false)];
  if (invalid.length > 0) return err(400, 'Invalid request to update template metadata!', undefined, invalid);
  const denied = requireOwner(ctx);
  if (denied) return denied;
  const apply = (acl: Map<string, TemplateRole>, perms: Record<string, string>) => {
    for (const [k, v] of Object.entries(perms)) {
      const id = parseUuid(k)!;
      if (v === '') acl.delete(id);
      else acl.set(id, v as TemplateRole);
    }
  };
  apply(t.v.userAcl, userPerms);
  apply(t.v.groupAcl, groupPerms);
  t.v.updated_at = ctx.state.now();
  return ok({ message: 'Successfully updated template ACL list.' });
}

/**
 * Site and organization roles: PUT /users/{user}/roles (coderd/users.go putUserRoles), PUT
 * /organizations/{org}/members/{user}/roles (coderd/members.go putMemberRoles), and custom organization
 * roles (enterprise/coderd/roles.go). Site roles live on the user record (`roles`), org roles on the membership.
 */
import { Ctx, orgParam, requireOwner, userParam } from './context';
import { ApiResult, err, noContent, ok, resourceNotFound } from './errors';
import { ORG_ROLE_DISPLAY as ORG_ROLES, orgMemberJson, userJson } from './serialize';
import { CustomRoleRec, OrgRec, State } from './state';
import { decodeBody, nameValid } from './validation';

export const SITE_ROLES = ['owner', 'user-admin', 'template-admin', 'auditor'];
/** Always held, never stored: Coder drops it from a role list. */
const IMPLIED_SITE = 'member';
const IMPLIED_ORG = 'organization-member';
const RESERVED = new Set([...SITE_ROLES, IMPLIED_SITE, ...Object.keys(ORG_ROLES), IMPLIED_ORG]);

function rolesBody(ctx: Ctx): { roles: string[] } | { error: ApiResult } {
  const d = decodeBody(ctx.body, 'UpdateRoles', [{ json: 'roles', type: 'string[]' }]);
  if ('error' in d) return d;
  return { roles: [...new Set((d.value.roles as string[] | undefined) ?? [])] };
}

export function customRolesOf(state: State, orgId: string): Map<string, CustomRoleRec> {
  let roles = state.customRoles.get(orgId);
  if (!roles) state.customRoles.set(orgId, (roles = new Map()));
  return roles;
}

/** PUT /users/{user}/roles — full replacement of the site roles. */
export function putUserRoles(ctx: Ctx): ApiResult {
  const u = userParam(ctx, true);
  if (u.e) return u.e;
  if (u.v.login_type === 'oidc' && ctx.state.idpSync.siteRoleField !== '') {
    return err(
      400,
      'Cannot modify roles for OIDC users when role sync is enabled.',
      "'User Role Field' is set in the OIDC configuration. All role changes must come from the oidc identity provider.",
    );
  }
  if (ctx.actor && u.v.id === ctx.actor.id) return err(400, 'You cannot change your own roles.');
  const denied = requireOwner(ctx);
  if (denied) return denied;
  const b = rolesBody(ctx);
  if ('error' in b) return b.error;
  const roles = b.roles.filter((r) => r !== IMPLIED_SITE);
  // dbauthz canAssignRoles: the kind of role first, then whether it exists.
  if (roles.some((r) => r in ORG_ROLES || r === IMPLIED_ORG)) return err(400, 'Must only update site wide roles');
  const bad = roles.find((r) => !SITE_ROLES.includes(r));
  if (bad !== undefined) return err(400, `"${bad}" is not a supported role`);
  u.v.roles = roles;
  u.v.updated_at = ctx.state.now();
  return ok(userJson(ctx.state, u.v));
}

/** PUT /organizations/{org}/members/{user}/roles — full replacement of one member's organization roles. */
export function putMemberRoles(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const u = userParam(ctx, true);
  if (u.e) return u.e;
  const member = o.v.members.get(u.v.id);
  if (!member) return resourceNotFound();
  if (u.v.login_type === 'oidc' && (ctx.state.idpSync.roles.get(o.v.id)?.field ?? '') !== '') {
    return err(
      400,
      "Cannot modify roles for OIDC users when role sync is enabled. This organization member's roles are managed by the identity provider. Have the user re-login to refresh their roles.",
      "'User Role Field' is set in the organization settings. Ask an administrator to adjust or disable these settings.",
    );
  }
  if (ctx.actor && u.v.id === ctx.actor.id) {
    return err(400, 'You cannot change your own organization roles.', 'Another user with the appropriate permissions must change your roles.');
  }
  const b = rolesBody(ctx);
  if ('error' in b) return b.error;
  const denied = requireOwner(ctx);
  if (denied) return denied;
  const custom = customRolesOf(ctx.state, o.v.id);
  const roles = b.roles.filter((r) => r !== IMPLIED_ORG);
  if (roles.some((r) => SITE_ROLES.includes(r) || r === IMPLIED_SITE)) return err(400, 'Must only update org roles');
  const bad = roles.find((r) => !(r in ORG_ROLES) && !custom.has(r));
  if (bad !== undefined) return err(400, `"${bad}" is not a supported role`);
  member.roles = roles;
  member.updated_at = ctx.state.now();
  return ok(orgMemberJson(ctx.state, o.v.id, u.v.id, member));
}

function roleJson(org: OrgRec, r: { name: string; display_name: string; organization_permissions?: unknown[] }, builtIn: boolean) {
  return {
    name: r.name,
    organization_id: org.id,
    display_name: r.display_name,
    site_permissions: [],
    organization_permissions: r.organization_permissions ?? [],
    user_permissions: [],
    assignable: true,
    built_in: builtIn,
  };
}

/** GET /organizations/{org}/members/roles — built-in organization roles, then the org's custom roles. */
export function listOrgRoles(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const builtIn = Object.entries(ORG_ROLES).map(([name, display_name]) => roleJson(o.v, { name, display_name }, true));
  const custom = [...customRolesOf(ctx.state, o.v.id).values()].map((r) => roleJson(o.v, r, false));
  return ok([...builtIn, ...custom]);
}

/** POST (create) and PUT (update) /organizations/{org}/members/roles — validOrganizationRoleRequest first. */
export function upsertOrgRole(mode: 'create' | 'update') {
  return (ctx: Ctx): ApiResult => {
    const o = orgParam(ctx);
    if (o.e) return o.e;
    const d = decodeBody(ctx.body, 'CustomRoleRequest', [
      { json: 'name', type: 'string' },
      { json: 'display_name', type: 'string' },
      { json: 'site_permissions', type: 'any[]' },
      { json: 'organization_permissions', type: 'any[]' },
      { json: 'user_permissions', type: 'any[]' },
    ]);
    if ('error' in d) return d.error;
    const name = (d.value.name as string) ?? '';
    if (RESERVED.has(name)) return err(400, 'Reserved role name', `"${name}" is a reserved role name, and not allowed to be used`);
    const invalid = nameValid(name);
    if (invalid) return err(400, 'Invalid role name', invalid);
    if (((d.value.site_permissions as unknown[]) ?? []).length > 0) {
      return err(400, 'Invalid request, not allowed to assign site wide permissions for an organization role.', 'organization scoped roles may not contain site wide permissions');
    }
    if (((d.value.user_permissions as unknown[]) ?? []).length > 0) {
      return err(400, 'Invalid request, not allowed to assign user permissions for an organization role.', 'organization scoped roles may not contain user permissions');
    }
    const denied = requireOwner(ctx);
    if (denied) return denied;
    const roles = customRolesOf(ctx.state, o.v.id);
    if (mode === 'create' && roles.has(name)) {
      return err(400, 'Failed to update role permissions', 'pq: duplicate key value violates unique constraint "idx_custom_roles_name_lower_organization_id"');
    }
    if (mode === 'update' && !roles.has(name)) return resourceNotFound();
    const role: CustomRoleRec = {
      name,
      display_name: (d.value.display_name as string) ?? '',
      organization_permissions: (d.value.organization_permissions as unknown[]) ?? [],
    };
    roles.set(name, role);
    return ok(roleJson(o.v, role, false));
  };
}

/** DELETE /organizations/{org}/members/roles/{roleName} — 204; unknown 404 with Coder's own message. */
export function deleteOrgRole(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const name = ctx.params.roleName ?? '';
  const roles = customRolesOf(ctx.state, o.v.id);
  if (!roles.has(name)) return err(404, `No custom role with the name ${name} found`, 'no role found');
  const denied = requireOwner(ctx);
  if (denied) return denied;
  roles.delete(name);
  // The role disappears from every member that held it (Coder's custom_roles delete trigger).
  for (const m of o.v.members.values()) m.roles = m.roles.filter((r) => r !== name);
  return noContent();
}

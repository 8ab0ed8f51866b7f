/**
 * IdP sync settings (enterprise/coderd/idpsync.go): groups and roles per organization, organizations site-wide.
 * A scope's sync is on when its `field` is set; the simulator then refuses what Coder refuses for OIDC users
 * (org role changes, manual org adds). PATCH replaces the whole settings object, as Coder does.
 */
import { Ctx, orgParam, requireOwner } from './context';
import { ApiResult, ok } from './errors';
import { decodeBody } from './validation';

const DEFAULT_GROUPS = { field: '', mapping: {}, regex_filter: null, auto_create_missing_groups: false };
const DEFAULT_ROLES = { field: '', mapping: {} };

function mapping(v: unknown): Record<string, string[]> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string[]>) : {};
}

export function getGroupSync(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  return o.e ?? ok(ctx.state.idpSync.groups.get(o.v.id) ?? DEFAULT_GROUPS);
}

export function patchGroupSync(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const d = decodeBody(ctx.body, 'GroupSyncSettings', [
    { json: 'field', type: 'string' },
    { json: 'regex_filter', type: 'string' },
    { json: 'auto_create_missing_groups', type: 'bool' },
  ]);
  if ('error' in d) return d.error;
  const denied = requireOwner(ctx);
  if (denied) return denied;
  const settings = {
    field: (d.value.field as string) ?? '',
    mapping: mapping((JSON.parse(ctx.body) as Record<string, unknown>).mapping),
    regex_filter: (d.value.regex_filter as string | undefined) ?? null,
    auto_create_missing_groups: (d.value.auto_create_missing_groups as boolean) ?? false,
  };
  ctx.state.idpSync.groups.set(o.v.id, settings);
  return ok(settings);
}

export function getRoleSync(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  return o.e ?? ok(ctx.state.idpSync.roles.get(o.v.id) ?? DEFAULT_ROLES);
}

export function patchRoleSync(ctx: Ctx): ApiResult {
  const o = orgParam(ctx);
  if (o.e) return o.e;
  const d = decodeBody(ctx.body, 'RoleSyncSettings', [{ json: 'field', type: 'string' }]);
  if ('error' in d) return d.error;
  const denied = requireOwner(ctx);
  if (denied) return denied;
  const settings = { field: (d.value.field as string) ?? '', mapping: mapping((JSON.parse(ctx.body) as Record<string, unknown>).mapping) };
  ctx.state.idpSync.roles.set(o.v.id, settings);
  return ok(settings);
}

export function getOrganizationSync(ctx: Ctx): ApiResult {
  return ok(ctx.state.idpSync.organization);
}

export function patchOrganizationSync(ctx: Ctx): ApiResult {
  const d = decodeBody(ctx.body, 'OrganizationSyncSettings', [
    { json: 'field', type: 'string' },
    { json: 'organization_assign_default', type: 'bool' },
  ]);
  if ('error' in d) return d.error;
  const denied = requireOwner(ctx);
  if (denied) return denied;
  ctx.state.idpSync.organization = {
    field: (d.value.field as string) ?? '',
    mapping: mapping((JSON.parse(ctx.body) as Record<string, unknown>).mapping),
    organization_assign_default: (d.value.organization_assign_default as boolean) ?? false,
  };
  return ok(ctx.state.idpSync.organization);
}

/**
 * GET /deployment/config (coderd/deployment.go deploymentValues): owners only (403 otherwise). Site role sync is
 * the deployment option CODER_OIDC_USER_ROLE_FIELD, shown as `config.oidc.user_role_field`; the rest of Coder's
 * DeploymentValues is not simulated.
 */
export function getDeploymentConfig(ctx: Ctx): ApiResult {
  const denied = requireOwner(ctx);
  if (denied) return denied;
  return ok({ config: { oidc: { user_role_field: ctx.state.idpSync.siteRoleField } }, options: [] });
}

/** /api/v2/buildinfo and /api/v2/entitlements. */
import { Ctx } from './context';
import { ApiResult, goTime, ok } from './errors';

export const BUILD_VERSION = 'v2.24.2+c0de51m';
const DEPLOYMENT_ID = '5a1b7c3e-0d9f-4e7a-9b2c-5f6e7d8c9b0a';

export function buildInfo(urlBase: string) {
  return (): ApiResult =>
    ok({
      external_url: 'https://github.com/coder/coder/commit/c0de51m',
      version: BUILD_VERSION,
      dashboard_url: urlBase,
      workspace_proxy: false,
      agent_api_version: '2.6',
      provisioner_api_version: '1.7',
      upgrade_message: '',
      deployment_id: DEPLOYMENT_ID,
      telemetry: false,
    });
}

const FEATURES = [
  'user_limit',
  'audit_log',
  'browser_only',
  'scim',
  'template_rbac',
  'high_availability',
  'multiple_external_auth',
  'external_provisioner_daemons',
  'appearance',
  'advanced_template_scheduling',
  'workspace_proxy',
  'user_role_management',
  'external_token_encryption',
  'workspace_batch_actions',
  'access_control',
  'control_shared_ports',
  'custom_roles',
  'multiple_organizations',
  'workspace_prebuilds',
];

/** GET /entitlements: a Premium license without a user limit; template_rbac per groupsLicensed. */
export function entitlements(ctx: Ctx): ApiResult {
  const features: Record<string, { entitlement: string; enabled: boolean; actual?: number }> = {};
  for (const f of FEATURES) {
    if (f === 'user_limit') features[f] = { entitlement: 'entitled', enabled: true, actual: ctx.state.activeUserCount() };
    else if (f === 'template_rbac') {
      features[f] = ctx.opts.groupsLicensed
        ? { entitlement: 'entitled', enabled: true }
        : { entitlement: 'not_entitled', enabled: false };
    } else if (f === 'scim') features[f] = { entitlement: 'entitled', enabled: false }; // CODER_SCIM_AUTH_HEADER unset
    else if (f === 'high_availability' || f === 'browser_only' || f === 'external_token_encryption') {
      features[f] = { entitlement: 'entitled', enabled: false };
    } else features[f] = { entitlement: 'entitled', enabled: true };
  }
  return ok({
    features,
    warnings: [],
    errors: [],
    has_license: true,
    require_telemetry: false,
    trial: false,
    refreshed_at: goTime(Date.now()),
  });
}

import type { CoderClient } from '../coder/client';
import { CoderApiError } from '../coder/errors';
import { idpSyncOverlaps, organizationsOfPolicy, type IdpSyncState } from '../policy/idp-sync-overlap';
import type { AccessPolicy } from '../policy/schema';

/**
 * Reads Coder's own IdP sync settings (organization sync, and group and role sync of every organization the policy
 * touches) and says where they overlap what the bridge manages. Shared by the worker (at start and each resync),
 * `check` and `policy check`.
 */

export type IdpSyncReader = Pick<CoderClient, 'deploymentConfig' | 'organizationSyncSettings' | 'groupSyncSettings' | 'roleSyncSettings'>;

/** Without a policy the bridge still manages groups in its base organization, which Coder's group sync can undo. */
const NO_POLICY: AccessPolicy = { version: 1, onSuspend: 'leave', rules: [] };

/**
 * A Coder without a Premium licence has no IdP sync: older versions answer 404 for the routes, newer ones 403
 * ("... is a Premium feature"). Sync cannot be on there, so there is nothing to warn about. (The deployment
 * configuration answers 403 to a token that is not an owner's; such a token cannot grant site roles either.)
 */
function syncUnavailable(err: unknown): boolean {
  return err instanceof CoderApiError && (err.status === 404 || err.status === 403);
}

async function fieldOf(read: () => Promise<{ field: string }>): Promise<string> {
  try {
    return (await read()).field;
  } catch (err) {
    if (syncUnavailable(err)) return '';
    throw err;
  }
}

/**
 * The deployment's CODER_OIDC_USER_ROLE_FIELD. A Coder that refuses or lacks the route (403 to a non-owner token,
 * 404 or 405 from an older or stripped-down Coder) cannot say: the other settings are still checked, and Coder's
 * own 400 names site role sync if a grant meets it.
 */
async function siteRoleFieldOf(coder: IdpSyncReader): Promise<string> {
  try {
    return (await coder.deploymentConfig()).config?.oidc?.user_role_field ?? '';
  } catch (err) {
    if (err instanceof CoderApiError && err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 429) return '';
    throw err;
  }
}

/**
 * One warning per overlap, each naming the Coder setting to change. `orgIdOf` resolves an organization name
 * (undefined: Coder has none of that name, so it has no settings either). Throws when Coder cannot be read.
 */
export async function readIdpSyncOverlaps(
  coder: IdpSyncReader,
  policy: AccessPolicy | undefined,
  baseOrganization: string,
  orgIdOf: (name: string) => Promise<string | undefined>,
): Promise<string[]> {
  const effective = policy ?? NO_POLICY;
  const sync: IdpSyncState = {
    siteRoleField: await siteRoleFieldOf(coder),
    organizationField: await fieldOf(() => coder.organizationSyncSettings()),
    groupFields: {},
    roleFields: {},
  };
  for (const name of organizationsOfPolicy(effective, baseOrganization)) {
    const id = await orgIdOf(name);
    if (id === undefined) continue;
    sync.groupFields[name] = await fieldOf(() => coder.groupSyncSettings(id));
    sync.roleFields[name] = await fieldOf(() => coder.roleSyncSettings(id));
  }
  return idpSyncOverlaps(effective, baseOrganization, sync);
}

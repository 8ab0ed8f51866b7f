import type { CoderClient } from './client';
import type { Logger } from '../log';

/** Coder gates every group route behind this feature (Premium). */
export const GROUPS_FEATURE = 'template_rbac';

/**
 * Whether this Coder can hold groups, asked once at worker start. When it cannot, one clear line says so and
 * group reconciles are recorded as permanently failed ('unlicensed') while users keep provisioning.
 * An unanswered question counts as licensed: the group calls themselves then report what is wrong.
 */
export async function groupsLicensed(coder: CoderClient, logger: Logger): Promise<boolean> {
  try {
    const feature = (await coder.entitlements()).features[GROUPS_FEATURE];
    if (feature?.enabled) return true;
    logger.warn(
      { event: 'groups_unlicensed', feature: GROUPS_FEATURE, entitlement: feature?.entitlement ?? 'absent' },
      `Coder's ${GROUPS_FEATURE} feature is not enabled: SCIM groups will not be provisioned (users will be)`,
    );
    return false;
  } catch (err) {
    logger.warn({ event: 'entitlements_unavailable', err }, 'could not read Coder entitlements: assuming groups are licensed');
    return true;
  }
}

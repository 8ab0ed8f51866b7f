import type { AccessPolicy } from './schema';

/**
 * Where Coder's own IdP sync (re-applied at every OIDC login) overlaps what the bridge manages under a policy.
 * Pure: the caller reads the settings (`GET .../settings/idpsync/...`); each warning names the Coder setting to change.
 */

export interface IdpSyncState {
  /** `GET /api/v2/deployment/config` `config.oidc.user_role_field` (CODER_OIDC_USER_ROLE_FIELD; '' = off). */
  siteRoleField: string;
  /** `GET /api/v2/settings/idpsync/organization` `field` ('' = off). */
  organizationField: string;
  /** organization name -> `GET /api/v2/organizations/{org}/settings/idpsync/groups` `field`. */
  groupFields: Record<string, string>;
  /** organization name -> `GET /api/v2/organizations/{org}/settings/idpsync/roles` `field`. */
  roleFields: Record<string, string>;
}

/** The organizations whose settings matter: the base one (the bridge's groups live there) and every one the policy names. */
export function organizationsOfPolicy(policy: AccessPolicy, baseOrganization: string): string[] {
  const names = new Set([baseOrganization]);
  for (const rule of policy.rules) {
    for (const org of rule.grants.organizations) names.add(org.name);
    if (rule.grants.group?.organization) names.add(rule.grants.group.organization);
  }
  return [...names].sort();
}

export function idpSyncOverlaps(policy: AccessPolicy, baseOrganization: string, sync: IdpSyncState): string[] {
  const warnings: string[] = [];
  const memberships = new Set<string>();
  const roleGrants = new Set<string>();
  const groupOrgs = new Set([baseOrganization]);
  let grantsSiteRoles = false;
  for (const rule of policy.rules) {
    if (rule.grants.siteRoles.length > 0) grantsSiteRoles = true;
    for (const org of rule.grants.organizations) {
      if (org.name !== baseOrganization) memberships.add(org.name);
      if (org.roles.length > 0) roleGrants.add(org.name);
    }
    const placed = rule.grants.group?.organization;
    if (placed !== undefined) {
      groupOrgs.add(placed);
      if (placed !== baseOrganization) memberships.add(placed);
    }
  }
  if (sync.siteRoleField !== '' && grantsSiteRoles) {
    warnings.push(
      `Coder's site role sync is on (OIDC 'User Role Field' "${sync.siteRoleField}", CODER_OIDC_USER_ROLE_FIELD): Coder refuses site role changes for OIDC users ` +
        "and sets them at each login; unset it in Coder's deployment settings or drop the siteRoles grants",
    );
  }
  if (sync.organizationField !== '' && memberships.size > 0) {
    warnings.push(
      `Coder's organization sync is on (field "${sync.organizationField}"): Coder refuses to add OIDC users to ${[...memberships].sort().join(', ')} ` +
        'and re-applies memberships at login; clear the organization sync field (Deployment > IdP organization sync) or drop those grants',
    );
  }
  for (const org of [...roleGrants].sort()) {
    const field = sync.roleFields[org] ?? '';
    if (field !== '') {
      warnings.push(`organization "${org}": Coder's role sync is on (field "${field}"): Coder refuses organization role changes for OIDC users; clear its role sync field or drop the role grants there`);
    }
  }
  for (const org of [...groupOrgs].sort()) {
    const field = sync.groupFields[org] ?? '';
    if (field !== '') {
      warnings.push(`organization "${org}": Coder's group sync is on (field "${field}"): at each OIDC login Coder removes users from groups not in their claims, undoing the bridge's memberships; clear its group sync field or keep its groups apart`);
    }
  }
  return warnings;
}

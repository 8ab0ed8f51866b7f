import type { Group, User } from '../coder/types';
import type { AdoptGroups } from '../model/adopt-groups';

/**
 * Which existing Coder resources the bridge may take over (design rule 8). Pure: the reconcilers and the resync
 * ask these questions of users and groups they have already read, so every rule is unit-testable both ways.
 *
 * - A user is adopted by e-mail only (ASCII case-insensitive, otherwise exact), never by username, and never when
 *   it is privileged: any site role, or the user whose token the bridge calls Coder with.
 * - A group is adopted only when the operator lists its name in ADOPT_GROUPS (or `*`); the Everyone group never.
 */

/** Every Coder user has the implicit `member` role: it grants nothing beyond an ordinary account. */
const IMPLICIT_ROLE = 'member';

/** Lower-cases A-Z only: two addresses that differ beyond ASCII case are different addresses. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export type EmailMatch = 'same' | 'folded' | 'different';

/**
 * `same`: equal but for ASCII case (the only match that adopts). `folded`: equal only under Unicode case
 * mapping (a Kelvin sign for a K): Coder may still treat them as one address, so it is a clash, never an adoption.
 */
export function compareEmails(a: string, b: string): EmailMatch {
  if (asciiLower(a) === asciiLower(b)) return 'same';
  return a.toLowerCase() === b.toLowerCase() ? 'folded' : 'different';
}

export function siteRolesOf(user: Pick<User, 'roles'>): string[] {
  return (user.roles ?? []).map((role) => role.name).filter((name) => name !== IMPLICIT_ROLE);
}

/**
 * Why a Coder user may never be adopted or changed by the bridge, or undefined when it is an ordinary account.
 * `bridgeGranted`: site roles the access policy gave the user; they are the bridge's own doing, not privilege
 * (or the bridge would lock itself out of every user it promoted).
 */
export function privilegeOf(user: Pick<User, 'id' | 'roles'>, tokenUserId: string, bridgeGranted: readonly string[] = []): string | undefined {
  const reasons: string[] = [];
  if (user.id === tokenUserId) reasons.push("it is the bridge's own token user (GET /users/me)");
  const roles = siteRolesOf(user).filter((role) => !bridgeGranted.includes(role));
  if (roles.length > 0) reasons.push(`it holds the site role${roles.length > 1 ? 's' : ''} ${roles.join(', ')}`);
  return reasons.length > 0 ? reasons.join(', and ') : undefined;
}

/** The conflict of a SCIM user whose adopted Coder account has since gained a site role (or become the token user). */
export function adoptedButPrivileged(scimId: string, username: string, privilege: string): string {
  return `SCIM user ${scimId} was adopted as Coder user ${username}, which the bridge no longer changes: ${privilege}`;
}

export type Verdict = { adopt: true } | { adopt: false; reason: string };

/** Why a Coder user whose e-mail is not the SCIM user's (but for ASCII case) is not adopted. */
export function emailClash(email: string, holder: Pick<User, 'username' | 'email'>): string {
  if (compareEmails(holder.email, email) === 'different') return `Coder user ${holder.username} has another e-mail (${holder.email})`;
  return `e-mail ${email} clashes with Coder user ${holder.username} (${holder.email}), equal only under Unicode case folding: users are adopted only by an e-mail equal but for ASCII case`;
}

/** The verdict on the Coder user holding the e-mail a SCIM user maps to. */
export function userAdoption(candidate: Pick<User, 'id' | 'username' | 'email' | 'roles'>, email: string, tokenUserId: string): Verdict {
  if (compareEmails(candidate.email, email) !== 'same') return { adopt: false, reason: emailClash(email, candidate) };
  const privilege = privilegeOf(candidate, tokenUserId);
  if (privilege) {
    return {
      adopt: false,
      reason: `e-mail ${email} belongs to Coder user ${candidate.username}, which the bridge never adopts or changes: ${privilege}`,
    };
  }
  return { adopt: true };
}

/** The verdict on the existing Coder group whose name a SCIM group maps to. */
export function groupAdoption(group: Pick<Group, 'id' | 'name' | 'organization_id'>, adoptGroups: AdoptGroups): Verdict {
  // The Everyone group shares its organization's id: its membership is the organization's, nobody's to manage.
  if (group.id === group.organization_id) return { adopt: false, reason: `Coder group ${group.name} is the organization's Everyone group, never adopted` };
  if (adoptGroups.all || adoptGroups.names.has(group.name)) return { adopt: true };
  return {
    adopt: false,
    reason: `Coder group ${group.name} already exists and is not listed in ADOPT_GROUPS: the bridge does not take it over`,
  };
}
